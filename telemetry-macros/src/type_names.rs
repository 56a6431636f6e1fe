//! Which types the expansion may write inside the definition static, and how a type is shown
//! in the catalog.
//!
//! The event definition is a `static` in the function body: it cannot name the function's
//! generic parameters, `Self`, `impl Trait` or a non-'static lifetime.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// Types that hold runtime text or containers: never property values. Not naming them in the
/// static keeps a wrong value at one error (on the expression) instead of two.
const NEVER_PROPERTY_VALUES: &[&str] = &[
    "String", "str", "Cow", "OsString", "OsStr", "PathBuf", "Path", "Vec", "Box", "Rc", "Arc",
    "HashMap", "BTreeMap", "HashSet", "BTreeSet",
];

/// Whether `ty` may be written inside the function body's static.
///
/// `explicit`: the user wrote the type; only reject what cannot compile. Otherwise (a type taken
/// from the signature) also skip single-letter names, which may be generics of an enclosing
/// `impl<T>` that the attribute cannot see, and types that are never property values.
pub(crate) fn nameable(ty: &Type, generics: &[String], explicit: bool) -> bool {
    match ty {
        Type::Path(path) => {
            path.qself.is_none()
                && path.path.segments.iter().enumerate().all(|(i, segment)| {
                    let ident = segment.ident.to_string();
                    let generic = i == 0
                        && path.path.leading_colon.is_none()
                        && (generics.contains(&ident) || (!explicit && looks_generic(&ident)));
                    !generic
                        && ident != "Self"
                        && (explicit || !NEVER_PROPERTY_VALUES.contains(&ident.as_str()))
                        && arguments_nameable(&segment.arguments, generics, explicit)
                })
        }
        Type::Reference(reference) => {
            let lifetime_ok = reference
                .lifetime
                .as_ref()
                .is_none_or(|lifetime| lifetime.ident == "static");
            let static_str = reference
                .lifetime
                .as_ref()
                .is_some_and(|lifetime| lifetime.ident == "static")
                && is_str(&reference.elem);
            lifetime_ok
                && reference.mutability.is_none()
                && (static_str || nameable(&reference.elem, generics, explicit))
        }
        Type::Paren(inner) => nameable(&inner.elem, generics, explicit),
        Type::Group(inner) => nameable(&inner.elem, generics, explicit),
        // Tuples, slices, `impl Trait`, `dyn Trait`, fn pointers, `_`: never property values or
        // not nameable in a static.
        _ => false,
    }
}

fn arguments_nameable(arguments: &PathArguments, generics: &[String], explicit: bool) -> bool {
    match arguments {
        PathArguments::None => true,
        PathArguments::AngleBracketed(args) => args.args.iter().all(|arg| match arg {
            GenericArgument::Type(ty) => nameable(ty, generics, explicit),
            GenericArgument::Lifetime(lifetime) => lifetime.ident == "static",
            _ => false,
        }),
        PathArguments::Parenthesized(_) => false,
    }
}

pub(crate) fn is_str(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident("str"))
}

/// `T`, `U`, `T2`: the usual names of generic parameters.
fn looks_generic(ident: &str) -> bool {
    let mut chars = ident.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_digit())
}

/// Whether the return type mentions `impl Trait` (then it cannot be written in the body).
pub(crate) fn contains_impl(output: &ReturnType) -> bool {
    fn mentions_impl(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => ident == "impl",
            proc_macro2::TokenTree::Group(group) => mentions_impl(group.stream()),
            _ => false,
        })
    }
    match output {
        ReturnType::Type(_, ty) => mentions_impl(ty.to_token_stream()),
        ReturnType::Default => false,
    }
}

/// A type as a user would write it: `Option<u64>`, `&'static str`, `std::time::Duration`.
pub(crate) fn type_string(ty: &Type) -> String {
    let spaced = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(spaced.len());
    let tokens: Vec<&str> = spaced.split(' ').collect();
    for (i, token) in tokens.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| tokens[p]);
        let glue = matches!(
            (previous, *token),
            (None, _)
                | (_, "<" | ">" | "," | "::" | ")" | "]" | ";")
                | (Some("<" | "::" | "&" | "(" | "[" | "*"), _)
        );
        if !glue {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn explicit_types_reject_only_what_cannot_compile() {
        let generics = vec!["T".to_owned()];
        let ok: [Type; 4] = [
            parse_quote!(U),
            parse_quote!(String),
            parse_quote!(&Entry),
            parse_quote!(Option<&'static str>),
        ];
        for ty in ok {
            assert!(nameable(&ty, &generics, true), "{}", type_string(&ty));
        }
        let bad: [Type; 5] = [
            parse_quote!(T),
            parse_quote!(Option<T>),
            parse_quote!(Self),
            parse_quote!(impl PropertyValue),
            parse_quote!(&'a u8),
        ];
        for ty in bad {
            assert!(!nameable(&ty, &generics, true), "{}", type_string(&ty));
        }
    }

    #[test]
    fn renders_types_compactly() {
        let cases: [(Type, &str); 5] = [
            (parse_quote!(Option<u64>), "Option<u64>"),
            (parse_quote!(&'static str), "&'static str"),
            (parse_quote!(std::time::Duration), "std::time::Duration"),
            (parse_quote!(Hashed<Vec<u8>>), "Hashed<Vec<u8>>"),
            (parse_quote!(Result<(u8, i8), E>), "Result<(u8, i8), E>"),
        ];
        for (ty, expected) in cases {
            assert_eq!(type_string(&ty), expected);
        }
    }

    #[test]
    fn finds_impl_trait_in_return_types() {
        assert!(contains_impl(&parse_quote!(-> impl Iterator<Item = u8>)));
        assert!(contains_impl(&parse_quote!(-> Result<impl Display, E>)));
        assert!(!contains_impl(&parse_quote!(-> Result<u8, E>)));
        assert!(!contains_impl(&parse_quote!()));
    }
}
