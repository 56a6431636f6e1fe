//! Code generation for `#[track_event]`: the definition static, its registration, and the body
//! wrapped so that the capture happens at the requested point.
//!
//! The signature and attributes are re-emitted as they are. The body runs inside a closure so
//! that `return` and `?` come back through the capture point; an `async fn` body runs in place
//! with its `return` and `?` rewritten as breaks (`flat_async.rs`), or, where that rewrite
//! would not be exact, inside an `async` block.
//! Properties are evaluated before the body, and only when telemetry is active: when it is off,
//! the whole cost is one relaxed atomic load.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{AttrStyle, Attribute, GenericArgument, Ident, ItemFn, PathArguments, ReturnType, Type};

use crate::attr::Trigger;
use crate::naming;
use crate::prop_def::{self, Params};
use crate::validate::Event;

/// The name of the definition static, in every expansion.
const EVENT_STATIC: &str = "__TELEMETRY_EVENT";

/// The `static` definition of the event and its `inventory` registration.
///
/// `function` is empty for `track!`; `site` is where `file!()`/`line!()` point.
pub(crate) fn event_static(
    event: &Event,
    params: &Params<'_>,
    function: &str,
    site: Span,
) -> TokenStream {
    let event_static = Ident::new(EVENT_STATIC, Span::call_site());
    let name = &event.name;
    let description = &event.description;
    let trigger = Ident::new(event.trigger.variant(), Span::call_site());
    let (props, typed): (Vec<_>, Vec<_>) = event
        .props
        .iter()
        .map(|prop| prop_def::prop_def(prop, params))
        .unzip();
    let has_distinct_id = event.distinct_id.is_some();
    // Scoped to the initializer: the function body never sees these items.
    let probe = typed
        .contains(&true)
        .then(prop_def::probe_items)
        .unwrap_or_default();
    let site = quote_spanned! {site=>
        ::telemetry_core::__private::Site {
            module_path: ::core::module_path!(),
            function: #function,
            file: ::core::file!(),
            line: ::core::line!(),
        }
    };
    quote! {
        static #event_static: ::telemetry_core::__private::EventDef = {
            #probe
            ::telemetry_core::__private::EventDef {
                name: #name,
                description: #description,
                trigger: ::telemetry_core::__private::Trigger::#trigger,
                props: &[#(#props),*],
                has_distinct_id: #has_distinct_id,
                site: #site,
            }
        };
        ::telemetry_core::__private::submit!(
            ::telemetry_core::__private::Registration(&#event_static)
        );
    }
}

/// `[prop(&(value)), ...]`, each spanned on the user's expression so that a value that is not a
/// property value is reported there. A `has_*`/`is_*` flag goes through `flag(..)`, which
/// accepts only a `bool`; a string literal becomes a one-entry compile-time table.
pub(crate) fn prop_values(event: &Event) -> TokenStream {
    let values = event.props.iter().map(|prop| {
        let value = &prop.value;
        let convert = if naming::is_flag(&prop.name) {
            quote!(flag)
        } else if let Some(text) = prop_def::literal_text(prop) {
            return literal(text);
        } else {
            quote!(prop)
        };
        match &prop.ty {
            // A declared type is also the type the value must have.
            Some(ty) => quote_spanned! {value.span()=>
                ::telemetry_core::__private::#convert::<#ty>(&(#value))
            },
            None => quote_spanned! {value.span()=>
                ::telemetry_core::__private::#convert(&(#value))
            },
        }
    });
    quote!([#(#values),*])
}

/// A string literal as `PropValue::Str`, read from an associated `const` like a derived enum's
/// variant: `StaticText` has no constructor that takes runtime text.
fn literal(text: &syn::LitStr) -> TokenStream {
    let table = Ident::new("__TelemetryLiteral", Span::mixed_site());
    quote! {{
        struct #table;
        impl ::telemetry_core::__private::StaticTexts for #table {
            const TEXTS: &'static [&'static str] = &[#text];
        }
        ::telemetry_core::__private::PropValue::Str(const {
            ::telemetry_core::__private::StaticText::nth::<#table>(0)
        })
    }}
}

/// `Some(distinct(&(value)))` or `None`.
pub(crate) fn distinct_id(event: &Event) -> TokenStream {
    match &event.distinct_id {
        Some(value) => quote_spanned! {value.span()=>
            ::telemetry_core::__private::Some(::telemetry_core::__private::distinct(&(#value)))
        },
        None => quote!(::telemetry_core::__private::None),
    }
}

/// A function as the attribute sees it: the body is kept as tokens, so a body that `syn`
/// cannot parse (a syntax error, or syntax newer than `syn`) is still instrumented and rustc
/// reports any error in it where the user wrote it (tracing's `MaybeItemFn`).
pub(crate) struct MaybeItemFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) sig: syn::Signature,
    /// The braced body, inner attributes included.
    pub(crate) block: TokenStream,
}

impl From<ItemFn> for MaybeItemFn {
    fn from(function: ItemFn) -> MaybeItemFn {
        // Inner attributes (`#![allow(..)]`) go back at the top of the body.
        let (inner, outer): (Vec<_>, Vec<_>) = function
            .attrs
            .into_iter()
            .partition(|attr| matches!(attr.style, AttrStyle::Inner(_)));
        let stmts = &function.block.stmts;
        MaybeItemFn {
            attrs: outer,
            vis: function.vis,
            sig: function.sig,
            block: quote_spanned!(function.block.brace_token.span.join()=> { #(#inner)* #(#stmts)* }),
        }
    }
}

impl syn::parse::Parse for MaybeItemFn {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<MaybeItemFn> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body;
        let brace = syn::braced!(body in input);
        let tokens: TokenStream = body.parse()?;
        let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, tokens);
        group.set_span(brace.span.join());
        Ok(MaybeItemFn {
            attrs,
            vis,
            sig,
            block: group.into_token_stream(),
        })
    }
}

/// The instrumented function.
pub(crate) fn track_event(function: MaybeItemFn, event: &Event) -> TokenStream {
    let MaybeItemFn {
        attrs: outer_attrs,
        vis,
        sig,
        block,
    } = function;

    let params = Params::of(&sig);
    let function_name = sig.ident.unraw().to_string();
    let event_static = event_static(event, &params, &function_name, sig.ident.span());
    let event_ref = Ident::new(EVENT_STATIC, Span::call_site());
    let values = prop_values(event);
    let distinct = distinct_id(event);

    let body = if event.trigger == Trigger::Call {
        quote! {
            if ::telemetry_core::__private::is_active() {
                ::telemetry_core::__private::emit(&#event_ref, #values, #distinct);
            }
            #block
        }
    } else {
        // The pending capture is hygienic: the body can neither see nor shadow it.
        let pending = Ident::new("__telemetry_pending", Span::mixed_site());
        // The result is bound after the body, so the body cannot see it either. It is located
        // at `on = "..."` (not hygienic) so that an `Outcome` error points there.
        let ret = Ident::new("__telemetry_ret", event.trigger_span);
        let emit = match event.trigger {
            Trigger::Success => {
                quote_spanned!(event.trigger_span=> #pending.emit_if_success(&#ret))
            }
            Trigger::Failure => {
                quote_spanned!(event.trigger_span=> #pending.emit_if_failure(&#ret))
            }
            _ => quote!(#pending.emit()),
        };
        // An `async fn` holds the pending capture across its body's `.await`s, so its future
        // is as large as what it holds, with telemetry off too (a layout cannot depend on a
        // runtime switch), and every poll and move pays for that size. It holds a box: 8 bytes.
        let (run, boxed) = if sig.asyncness.is_some() {
            let run = crate::flat_async::flat_body(&sig.output, &block)
                .unwrap_or_else(|| run_async(&sig.output, &block));
            (run, true)
        } else {
            (run_sync(&sig.output, &block), false)
        };
        let mut prepared = quote! {
            ::telemetry_core::__private::Pending::new(&#event_ref, #values, #distinct)
        };
        if boxed {
            prepared = quote!(::telemetry_core::__private::Box::new(#prepared));
        }
        quote! {
            let #pending = if ::telemetry_core::__private::is_active() {
                ::telemetry_core::__private::Some(#prepared)
            } else {
                ::telemetry_core::__private::None
            };
            // `allow`, not `expect`: in generated code the lints fire for some bodies only.
            #[allow(clippy::let_unit_value, clippy::redundant_async_block)]
            let #ret = #run;
            if let ::telemetry_core::__private::Some(#pending) = #pending {
                #emit;
            }
            #ret
        }
    };

    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #event_static
            #body
        }
    }
}

/// Runs a sync body in a closure, so `return` and `?` land here.
///
/// The closure goes through an `FnOnce` bound: a closure that is merely called would be
/// inferred `FnMut`, which cannot hand out borrows of its captures (`&mut self.field`).
///
/// The body of an `unsafe fn` is not wrapped in `unsafe { }`: the closure is checked as part of
/// the function, so `unsafe_op_in_unsafe_fn` still reaches the user's code.
fn run_sync(output: &ReturnType, body: &TokenStream) -> TokenStream {
    let call_once = Ident::new("__telemetry_call_once", Span::mixed_site());
    let closure = match output {
        ReturnType::Type(arrow, ty) if !prop_def::contains_impl(output) => {
            quote!(move || #arrow #ty { #body })
        }
        // `impl Trait` cannot be written in the body; the fake return still guides `?`.
        ReturnType::Type(_, ty) => {
            let fake = fake_return(ty);
            quote!(move || { #fake #body })
        }
        ReturnType::Default => quote!(move || { #body }),
    };
    quote! {{
        #[inline(always)]
        fn #call_once<R, F: ::core::ops::FnOnce() -> R>(f: F) -> R {
            f()
        }
        #call_once(#closure)
    }}
}

/// Runs an async body in an `async move` block, awaited in place. Nothing that is not `Send`
/// is held across the `.await`: the pending capture is plain owned data (boxed, see above).
fn run_async(output: &ReturnType, body: &TokenStream) -> TokenStream {
    let fake = match output {
        ReturnType::Type(_, ty) => fake_return(ty),
        ReturnType::Default => TokenStream::new(),
    };
    quote!(async move { #fake #body }.await)
}

/// tracing-attributes' trick: an unreachable `return` of the declared type, so that the
/// compiler infers the block's type (and the error type of `?`) from the signature.
fn fake_return(ty: &Type) -> TokenStream {
    let erased = erase_impl_trait(ty);
    quote_spanned! {ty.span()=>
        // `allow`, not `expect`: which of these fire depends on the user's return type.
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __telemetry_fake_return: #erased = loop {};
            return __telemetry_fake_return;
        }
    }
}

/// `impl Trait` becomes `_`, which may be written in a `let`.
fn erase_impl_trait(ty: &Type) -> Type {
    let mut ty = ty.clone();
    erase_in(&mut ty);
    ty
}

fn erase_in(ty: &mut Type) {
    match ty {
        Type::ImplTrait(_) => {
            *ty = Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: Default::default(),
            })
        }
        Type::Path(path) => {
            for segment in &mut path.path.segments {
                if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        if let GenericArgument::Type(inner) = arg {
                            erase_in(inner);
                        }
                    }
                }
            }
        }
        Type::Reference(inner) => erase_in(&mut inner.elem),
        Type::Paren(inner) => erase_in(&mut inner.elem),
        Type::Group(inner) => erase_in(&mut inner.elem),
        Type::Array(inner) => erase_in(&mut inner.elem),
        Type::Slice(inner) => erase_in(&mut inner.elem),
        Type::Ptr(inner) => erase_in(&mut inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(erase_in),
        _ => {}
    }
}
