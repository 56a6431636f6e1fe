//! `#[derive(PropertyValue)]`: an enum of unit variants becomes a property with a fixed set of
//! values, each variant sent as its snake_case name (or `#[property(rename = "...")]`).
//!
//! Only fieldless, non-generic enums qualify: a property is one of a few values known at compile
//! time, listed in the catalog, never data that a variant could carry.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

use crate::diagnostic::Errors;
use crate::naming;

/// The derive's output: the impls, or only errors (the item itself is never touched).
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let variants = variants(&input, &mut errors);
    match errors.finish() {
        Ok(()) => expand(&input, &variants),
        Err(error) => error.to_compile_error(),
    }
}

/// `(variant ident, value sent)`, in declaration order.
fn variants<'a>(input: &'a DeriveInput, errors: &mut Errors) -> Vec<(&'a syn::Ident, String)> {
    const ENUMS_ONLY: &str = "declare an enum of unit variants, one per value, or send each \
                              field as its own property (identifiers as `Hashed(...)`)";
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(data) => {
            errors.error_with_hint(
                data.struct_token.span,
                "#[derive(PropertyValue)] works on enums with unit variants only, not structs",
                ENUMS_ONLY,
            );
            return Vec::new();
        }
        Data::Union(data) => {
            errors.error_with_hint(
                data.union_token.span,
                "#[derive(PropertyValue)] works on enums with unit variants only, not unions",
                ENUMS_ONLY,
            );
            return Vec::new();
        }
    };
    if !input.generics.params.is_empty() {
        errors.error_with_hint(
            input.generics.span(),
            "#[derive(PropertyValue)] does not support generic enums",
            "the catalog lists the values of one concrete enum: remove the parameters",
        );
    }
    for attr in property_attrs(&input.attrs) {
        errors.error_with_hint(
            attr.span(),
            "#[property(...)] goes on variants",
            "write `#[property(rename = \"...\")]` above a variant",
        );
    }
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
                return Err(crate::diagnostic::error_with_hint(
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

fn expand(input: &DeriveInput, variants: &[(&syn::Ident, String)]) -> TokenStream {
    let name = &input.ident;
    let values = variants.iter().map(|(_, value)| value);
    let arms = variants.iter().map(|(ident, value)| {
        quote!(#name::#ident => ::telemetry_core::__private::PropValue::Str(#value),)
    });
    quote! {
        #[automatically_derived]
        impl ::telemetry_core::__private::PropertyValue for #name {
            const KIND: ::telemetry_core::__private::ValueKind =
                ::telemetry_core::__private::ValueKind::Enum;
            const VARIANTS: &'static [&'static str] = &[#(#values),*];
            #[inline]
            fn to_prop_value(&self) -> ::telemetry_core::__private::PropValue {
                match *self {
                    #(#arms)*
                }
            }
        }
        #[automatically_derived]
        impl ::telemetry_core::__private::NotStr for #name {}
    }
}
