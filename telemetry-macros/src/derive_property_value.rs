//! `#[derive(PropertyValue)]`, in three steps: parse ([`shape`]), validate, expand.
//!
//! Two shapes qualify:
//! - an enum of unit variants: one of a fixed set of values, each sent as its snake_case name
//!   (or `#[property(rename = "...")]`), listed in the catalog;
//! - a newtype struct over a bool, a number or a `Duration` (`struct ProjectId(i64);`), sent as
//!   the inner value with its kind.
//!
//! Nothing else: a property is never data a variant or a field could carry. Like thiserror,
//! after an error the derive still emits a stub impl ([`fallback`]) so the type's uses do not
//! add "not a property value" errors on top of the one that says what to fix.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, Type};

use crate::diagnostic::{Errors, error_with_hint};
use crate::naming;

/// What the derive generates code for.
enum Shape<'a> {
    /// `(variant ident, value sent)`, in declaration order.
    Enum(Vec<(&'a syn::Ident, String)>),
    /// The one field of a newtype: its accessor (`0` or a name) and type.
    Newtype(TokenStream, &'a Type),
}

/// The derive's output: the impls, or the errors and a stub impl (the item itself is never
/// touched).
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let shape = shape(&input, &mut errors);
    match (shape, errors.finish()) {
        (Some(shape), Ok(())) => expand(&input, &shape),
        (_, Err(error)) => fallback(&input, error),
        (None, Ok(())) => unreachable!("a shape is rejected only with an error"),
    }
}

fn shape<'a>(input: &'a DeriveInput, errors: &mut Errors) -> Option<Shape<'a>> {
    const WHAT: &str = "declare an enum of unit variants, one per value, or a newtype over a \
                        number or bool (`struct ProjectId(i64);`); send identifiers as \
                        `Hashed(...)`";
    if !input.generics.params.is_empty() {
        errors.error_with_hint(
            input.generics.span(),
            "#[derive(PropertyValue)] does not support generic types",
            "the catalog lists the values of one concrete type: remove the parameters",
        );
    }
    match &input.data {
        Data::Enum(data) => {
            for attr in property_attrs(&input.attrs) {
                errors.error_with_hint(
                    attr.span(),
                    "#[property(...)] goes on variants",
                    "write `#[property(rename = \"...\")]` above a variant",
                );
            }
            Some(Shape::Enum(variants(data, errors)))
        }
        Data::Struct(data) => newtype(&data.fields, data.struct_token.span, errors, WHAT),
        Data::Union(data) => {
            errors.error_with_hint(
                data.union_token.span,
                "#[derive(PropertyValue)] works on enums of unit variants and numeric newtypes, \
                 not unions",
                WHAT,
            );
            None
        }
    }
}

/// A struct with exactly one field, whose type is not text.
fn newtype<'a>(
    fields: &'a Fields,
    struct_span: proc_macro2::Span,
    errors: &mut Errors,
    what: &str,
) -> Option<Shape<'a>> {
    let mut iter = fields.iter();
    let (Some(field), None) = (iter.next(), iter.next()) else {
        errors.error_with_hint(
            if fields.is_empty() {
                struct_span
            } else {
                fields.span()
            },
            "#[derive(PropertyValue)] works on structs with exactly one field (a newtype over a \
             number or bool)",
            what,
        );
        return None;
    };
    if let Some(text) = text_type(&field.ty) {
        // Spanned on the whole type (`&'static str`), not only its first token.
        errors.push(syn::Error::new_spanned(
            &field.ty,
            format!(
                "a newtype over `{text}` is runtime text, never a property value\n= help: send \
                 an identifier as `Hashed(value)` at the call site, or declare an enum of the \
                 possible values that derives `PropertyValue`"
            ),
        ));
        return None;
    }
    let access = match &field.ident {
        Some(name) => quote!(#name),
        None => quote!(0),
    };
    Some(Shape::Newtype(access, &field.ty))
}

/// The name of a text type, seen from its spelling; other types are checked by the compiler
/// through the `NewtypeInner` bound.
fn text_type(ty: &Type) -> Option<String> {
    const TEXT: &[&str] = &[
        "String", "str", "Cow", "OsString", "OsStr", "PathBuf", "Path",
    ];
    match ty {
        Type::Reference(reference) => text_type(&reference.elem).map(|inner| format!("&{inner}")),
        Type::Paren(inner) => text_type(&inner.elem),
        Type::Group(inner) => text_type(&inner.elem),
        Type::Path(path) => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            if TEXT.contains(&name.as_str()) {
                return Some(name);
            }
            // `Box<str>`, `Rc<str>`, `Arc<String>`.
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let is_pointer = ["Box", "Rc", "Arc"].contains(&name.as_str());
            match args.args.first() {
                Some(syn::GenericArgument::Type(inner)) if is_pointer => {
                    text_type(inner).map(|inner| format!("{name}<{inner}>"))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn variants<'a>(data: &'a syn::DataEnum, errors: &mut Errors) -> Vec<(&'a syn::Ident, String)> {
    let mut values: Vec<(&syn::Ident, String)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.error_with_hint(
                variant.fields.span(),
                format!("the variant `{}` carries data", variant.ident),
                "a property value is one of a fixed set of names: remove the fields, and send \
                 the data as its own property if it is not personal",
            );
        }
        let (value, span) = match rename(variant, errors) {
            Some(literal) => (literal.value(), literal.span()),
            None => (
                naming::to_snake_case(&variant.ident.to_string()),
                variant.ident.span(),
            ),
        };
        if let Some((other, _)) = values.iter().find(|(_, v)| *v == value) {
            errors.error_with_hint(
                span,
                format!(
                    "`{}` and `{other}` are both sent as \"{value}\"",
                    variant.ident
                ),
                "give one of them `#[property(rename = \"...\")]`",
            );
        }
        values.push((&variant.ident, value));
    }
    values
}

fn property_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("property"))
}

/// The value of `#[property(rename = "...")]`, if given and valid.
fn rename(variant: &syn::Variant, errors: &mut Errors) -> Option<LitStr> {
    let mut renamed = None;
    for attr in property_attrs(&variant.attrs) {
        let parsed = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("rename") {
                return Err(error_with_hint(
                    meta.path.span(),
                    "unknown key in #[property(...)]",
                    "the only key is `rename = \"...\"`",
                ));
            }
            let literal: LitStr = meta.value()?.parse()?;
            if literal.value().trim().is_empty() {
                errors.error_with_hint(
                    literal.span(),
                    "the renamed value is empty",
                    "write the value to send, e.g. `#[property(rename = \"xlsx\")]`",
                );
            } else if renamed.replace(literal.clone()).is_some() {
                errors.error_with_hint(
                    literal.span(),
                    "the variant is renamed twice",
                    "keep one `rename`",
                );
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    renamed
}

fn expand(input: &DeriveInput, shape: &Shape<'_>) -> TokenStream {
    let name = &input.ident;
    let body = match shape {
        Shape::Enum(variants) => {
            let values = variants.iter().map(|(_, value)| value);
            // Each variant reads its text from the const table, so no runtime text can reach
            // `PropValue::Str`; `const { }` makes a wrong index a compile error.
            let arms = variants.iter().enumerate().map(|(index, (ident, _))| {
                quote! {
                    #name::#ident => ::telemetry_core::__private::PropValue::Str(const {
                        ::telemetry_core::__private::StaticText::nth::<#name>(#index)
                    }),
                }
            });
            quote! {
                #[automatically_derived]
                impl ::telemetry_core::__private::StaticTexts for #name {
                    const TEXTS: &'static [&'static str] = &[#(#values),*];
                }
                #[automatically_derived]
                impl ::telemetry_core::__private::PropertyValue for #name {
                    const KIND: ::telemetry_core::__private::ValueKind =
                        ::telemetry_core::__private::ValueKind::Enum;
                    const VARIANTS: &'static [&'static str] =
                        <#name as ::telemetry_core::__private::StaticTexts>::TEXTS;
                    #[inline]
                    fn to_prop_value(&self) -> ::telemetry_core::__private::PropValue {
                        match *self {
                            #(#arms)*
                        }
                    }
                }
            }
        }
        Shape::Newtype(access, ty) => {
            // Spanned on the field's type: a type that is not a bool or number is reported there.
            let inner = quote_spanned! {ty.span()=>
                <#ty as ::telemetry_core::__private::NewtypeInner>
            };
            quote! {
                #[automatically_derived]
                impl ::telemetry_core::__private::PropertyValue for #name {
                    const KIND: ::telemetry_core::__private::ValueKind = #inner::INNER_KIND;
                    #[inline]
                    fn to_prop_value(&self) -> ::telemetry_core::__private::PropValue {
                        #inner::inner_value(&self.#access)
                    }
                }
            }
        }
    };
    quote! {
        #[automatically_derived]
        impl ::telemetry_core::__private::Sealed for #name {}
        #body
    }
}

/// thiserror's fallback: the errors, then an impl that satisfies every use of the type without
/// claiming anything (kind `Unspecified`, a body that cannot run: the crate does not compile).
fn fallback(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let error = error.to_compile_error();
    quote! {
        #error
        #[automatically_derived]
        impl #impl_generics ::telemetry_core::__private::Sealed for #name #ty_generics
            #where_clause {}
        #[automatically_derived]
        impl #impl_generics ::telemetry_core::__private::PropertyValue for #name #ty_generics
            #where_clause
        {
            const KIND: ::telemetry_core::__private::ValueKind =
                ::telemetry_core::__private::ValueKind::Unspecified;
            fn to_prop_value(&self) -> ::telemetry_core::__private::PropValue {
                ::core::unreachable!()
            }
        }
    }
}
