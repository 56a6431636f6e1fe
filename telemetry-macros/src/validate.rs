//! The rules every declaration must follow, checked after parsing and before any code is
//! generated: what the attribute goes on, event and property names, descriptions.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Item, ItemFn, LitStr, ReturnType, Type};

use crate::attr::{EventArgs, MacroKind, Prop, Trigger};
use crate::diagnostic::{Errors, error_with_hint};
use crate::expand::MaybeItemFn;
use crate::{doc, naming};

/// A declaration that passed every check, ready to expand.
pub(crate) struct Event {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) trigger: Trigger,
    /// The `on = "..."` literal, or the event name when `on` is implicit.
    pub(crate) trigger_span: Span,
    pub(crate) props: Vec<Prop>,
    pub(crate) distinct_id: Option<Expr>,
}

/// Where a missing `description = "..."` may come from.
pub(crate) enum DescriptionSource<'a> {
    /// `#[track_event]`: the function's doc comment.
    DocComment {
        attrs: &'a [Attribute],
        fn_name: &'a Ident,
    },
    /// `track!`: nowhere, it is required.
    Required,
    /// The item is not a function: skip the check, another error says why.
    Unknown,
}

/// Checks the arguments; `None` (with every problem in `errors`) if any check failed.
pub(crate) fn event(
    args: EventArgs,
    kind: MacroKind,
    description: DescriptionSource<'_>,
    errors: &mut Errors,
) -> Option<Event> {
    let name = args.name.as_ref().map(|name| {
        event_name(name, errors);
        name.value()
    });
    props(&args.props, errors);
    let description = resolve_description(args.description.as_ref(), description, kind, errors);
    let (trigger, trigger_span) = match (&args.on, kind) {
        (_, MacroKind::Inline) => (Trigger::Inline, Span::call_site()),
        (Some(on), MacroKind::Attribute) => (on.trigger, on.span),
        (None, MacroKind::Attribute) => (
            Trigger::Return,
            args.name
                .as_ref()
                .map_or_else(Span::call_site, LitStr::span),
        ),
    };
    if !errors.is_empty() {
        return None;
    }
    Some(Event {
        name: name?,
        description: description?,
        trigger,
        trigger_span,
        props: args.props,
        distinct_id: args.distinct_id,
    })
}

/// `#[track_event]` goes on a function with a body that may have side effects.
///
/// A function whose body `syn` cannot parse is still accepted (its body kept as tokens): rustc
/// then reports the problem in the body itself, once, where the user wrote it.
pub(crate) fn function(item: TokenStream, errors: &mut Errors) -> Option<MaybeItemFn> {
    let item = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => {
            if let Some(error) = async_trait_method(&function) {
                errors.push(error);
                return None;
            }
            MaybeItemFn::from(function)
        }
        Ok(Item::Verbatim(tokens)) if bodiless_fn_name(tokens.clone()).is_some() => {
            errors.error_with_hint(
                bodiless_fn_name(tokens).map_or_else(Span::call_site, |name| name.span()),
                "#[track_event] needs a function body",
                "put it on the implementations of this trait method, not on its declaration",
            );
            return None;
        }
        Ok(other) => {
            errors.error_with_hint(
                keyword_span(&other),
                "#[track_event] goes on a fn",
                "put it on the function that performs the action (on each method of an impl); \
                 to capture from inside a body, use `track!`",
            );
            return None;
        }
        Err(error) => match syn::parse2::<MaybeItemFn>(item) {
            Ok(function) => function,
            Err(_) => {
                errors.push(error);
                return None;
            }
        },
    };
    if let Some(constness) = &item.sig.constness {
        errors.error_with_hint(
            constness.span,
            "#[track_event] cannot go on a `const fn`",
            "capturing an event is a runtime side effect: remove `const`, or instrument the \
             non-const function that calls it",
        );
        return None;
    }
    Some(item)
}

/// `#[track_caller]` works only when the capture is on entry: otherwise the body runs inside a
/// closure, and closures do not forward the caller's location (a stable-Rust limit).
pub(crate) fn track_caller(attrs: &[Attribute], on: Option<Trigger>, errors: &mut Errors) {
    let Some(attr) = attrs
        .iter()
        .find(|attr| attr.path().is_ident("track_caller"))
    else {
        return;
    };
    if on != Some(Trigger::Call) {
        errors.push(error_with_hint_on(
            attr,
            "#[track_caller] works with #[track_event] only when it captures on entry",
            "write `on = \"call\"` in #[track_event], or remove #[track_caller]: after the \
             body, the capture wraps it in a closure, and a closure does not forward the \
             caller's location",
        ));
    }
}

/// An error spanned on every token of `tokens` (stable Rust cannot join spans otherwise).
fn error_with_hint_on(
    tokens: impl ToTokens,
    message: impl std::fmt::Display,
    hint: impl std::fmt::Display,
) -> syn::Error {
    syn::Error::new_spanned(tokens, format!("{message}\n= help: {hint}"))
}

/// An `#[async_trait]` method, already turned into a `fn` returning `Pin<Box<dyn Future>>`
/// whose body is `Box::pin(async move { ... })`: instrumenting it would capture when the
/// future is built, before the body runs.
fn async_trait_method(function: &ItemFn) -> Option<syn::Error> {
    let ReturnType::Type(_, output) = &function.sig.output else {
        return None;
    };
    let returns_pinned_future = matches!(&**output, Type::Path(path)
        if path.path.segments.last().is_some_and(|last| last.ident == "Pin"))
        && output.to_token_stream().to_string().contains("Future");
    let boxes_an_async_block = match function.block.stmts.last() {
        Some(syn::Stmt::Expr(Expr::Call(call), None)) => {
            let callee = call.func.to_token_stream().to_string().replace(' ', "");
            callee.ends_with("Box::pin") && matches!(call.args.first(), Some(Expr::Async(_)))
        }
        _ => false,
    };
    (function.sig.asyncness.is_none() && returns_pinned_future && boxes_an_async_block).then(|| {
        error_with_hint(
            function.sig.ident.span(),
            "#[track_event] does not support #[async_trait] methods",
            "#[async_trait] has already turned this method into a fn that returns a boxed \
             future, so the capture would run before the body; use a native `async fn` in the \
             trait (Rust 1.75+), or put #[track_event] on an `async fn` that this method awaits",
        )
    })
}

/// The name of a trait method declaration without a body (`fn run(&self);`).
fn bodiless_fn_name(tokens: TokenStream) -> Option<Ident> {
    syn::parse2::<syn::TraitItemFn>(tokens)
        .ok()
        .filter(|f| f.default.is_none())
        .map(|f| f.sig.ident)
}

/// The keyword that says what the item is (`struct`, `impl`, ...), where the error belongs.
fn keyword_span(item: &Item) -> Span {
    match item {
        Item::Const(i) => i.const_token.span,
        Item::Enum(i) => i.enum_token.span,
        Item::ExternCrate(i) => i.extern_token.span,
        Item::ForeignMod(i) => i.abi.extern_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Macro(i) => i.mac.path.span(),
        Item::Mod(i) => i.mod_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Struct(i) => i.struct_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::TraitAlias(i) => i.trait_token.span,
        Item::Type(i) => i.type_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}

fn event_name(name: &LitStr, errors: &mut Errors) {
    if let Err(error) = naming::check_event_name(&name.value()) {
        errors.error_with_hint(name.span(), error.message, error.hint);
    }
}

fn props(props: &[Prop], errors: &mut Errors) {
    for (index, prop) in props.iter().enumerate() {
        if let Err(error) = naming::check_property_name(&prop.name) {
            errors.error_with_hint(prop.name_span, error.message, error.hint);
        }
        if props[..index]
            .iter()
            .any(|earlier| earlier.name == prop.name)
        {
            errors.error_with_hint(
                prop.name_span,
                format!("the property `{}` is declared twice", prop.name),
                "each property appears once in `props(...)`; rename or remove one",
            );
        }
    }
}

fn resolve_description(
    explicit: Option<&LitStr>,
    source: DescriptionSource<'_>,
    kind: MacroKind,
    errors: &mut Errors,
) -> Option<String> {
    const WHY: &str = "it is what the transparency document shows";
    if let Some(literal) = explicit {
        let text = literal.value().trim().to_owned();
        if text.is_empty() {
            errors.error_with_hint(
                literal.span(),
                "the event description is empty",
                format!(
                    "say in one sentence what happened, e.g. \"A project was created.\"; {WHY}"
                ),
            );
            return None;
        }
        return Some(text);
    }
    match source {
        DescriptionSource::DocComment { attrs, fn_name } => {
            let found = doc::first_paragraph(attrs);
            if found.is_none() {
                errors.error_with_hint(
                    fn_name.span(),
                    format!("#[track_event] needs a description of `{fn_name}`"),
                    format!(
                        "add a /// doc comment: {WHY} (or write `description = \"...\"` in the \
                         attribute)"
                    ),
                );
            }
            found
        }
        DescriptionSource::Unknown => None,
        DescriptionSource::Required => {
            errors.error_with_hint(
                Span::call_site(),
                format!("{} needs `description = \"...\"`", kind.display()),
                format!("say in one sentence what happened: {WHY}"),
            );
            None
        }
    }
}
