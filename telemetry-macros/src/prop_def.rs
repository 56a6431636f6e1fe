//! The catalog entry of each property (its Rust type and value kind), worked out at expansion
//! time without evaluating anything.
//!
//! The event definition is a `static` inside the function body, and a static cannot use the
//! function's generic parameters, `Self` or `impl Trait`. So a type is named only when it is
//! safe to: written explicitly (`props(n: u64 = ...)`), the type of a parameter passed as is, or
//! obvious from the expression (`Hashed(..)`, literals, comparisons, `.len()`). Otherwise the
//! kind is `Unspecified`: the compiler still checks the value through `prop(&value)`.
//!
//! One case cannot be seen from here: a parameter typed with a generic of an enclosing
//! `impl<Id> Repo<Id>` block. Single-letter names are skipped as likely generics; for others
//! the user writes `props(id: _ = id)` to record no type.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    BinOp, Expr, FnArg, GenericArgument, GenericParam, Lit, Pat, PathArguments, Signature, Type,
    UnOp,
};

use crate::attr::Prop;
use crate::diagnostic::Errors;
pub(crate) use crate::type_names::contains_impl;
use crate::type_names::{is_str, nameable, type_string};

/// Methods that return `bool` on the standard types.
const BOOL_METHODS: &[&str] = &[
    "is_some",
    "is_none",
    "is_empty",
    "is_ok",
    "is_err",
    "contains",
    "starts_with",
    "ends_with",
];

/// Methods that return `usize` on the standard types.
const COUNT_METHODS: &[&str] = &["len", "count"];

/// What the signature says about names usable in a property expression.
pub(crate) struct Params<'a> {
    /// Parameters bound to a plain identifier, with their type.
    types: Vec<(String, &'a Type)>,
    /// The function's generic type and const parameters.
    generics: Vec<String>,
}

impl Params<'static> {
    /// `track!`: no signature is known.
    pub(crate) fn none() -> Params<'static> {
        Params {
            types: Vec::new(),
            generics: Vec::new(),
        }
    }
}

impl<'a> Params<'a> {
    pub(crate) fn of(sig: &'a Signature) -> Params<'a> {
        let generics = sig
            .generics
            .params
            .iter()
            .filter_map(|param| match param {
                GenericParam::Type(t) => Some(t.ident.to_string()),
                GenericParam::Const(c) => Some(c.ident.to_string()),
                GenericParam::Lifetime(_) => None,
            })
            .collect();
        let types = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(typed) => param_binding(&typed.pat, &typed.ty),
                FnArg::Receiver(_) => None,
            })
            .collect();
        Params { types, generics }
    }

    fn type_of(&self, name: &str) -> Option<&'a Type> {
        self.types
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, ty)| *ty)
    }
}

/// `x: T` binds `x: T`; an extractor pattern `Path(x): Path<T>` (axum) binds `x: T`.
fn param_binding<'a>(pat: &Pat, ty: &'a Type) -> Option<(String, &'a Type)> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
            Some((p.ident.to_string(), ty))
        }
        Pat::TupleStruct(p) if p.elems.len() == 1 => {
            let Pat::Ident(inner) = &p.elems[0] else {
                return None;
            };
            let Type::Path(path) = ty else {
                return None;
            };
            let segment = path.path.segments.last()?;
            if p.path.segments.last()?.ident != segment.ident || inner.subpat.is_some() {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &segment.arguments else {
                return None;
            };
            match args.args.iter().collect::<Vec<_>>().as_slice() {
                [GenericArgument::Type(inner_ty)] => Some((inner.ident.to_string(), inner_ty)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The catalog's idea of one property.
enum Inferred {
    Typed(Box<Type>),
    Hashed,
    /// A string literal written in `props(...)`: an enum of one value.
    Literal(String),
    /// A `has_*`/`is_*` flag: the expansion requires a `bool`.
    Flag,
    Unspecified,
}

/// The string literal of `name = "literal"` (or `name: &'static str = "literal"`): compile-time
/// text the expansion sends as it is. Any other string expression is runtime text.
pub(crate) fn literal_text(prop: &Prop) -> Option<&syn::LitStr> {
    let type_allows = match &prop.ty {
        None => true,
        Some(Type::Reference(reference)) => {
            reference.mutability.is_none() && is_str(&reference.elem)
        }
        Some(_) => false,
    };
    let mut value = &prop.value;
    loop {
        match value {
            Expr::Paren(inner) => value = &inner.expr,
            Expr::Group(inner) => value = &inner.expr,
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(text),
                ..
            }) if type_allows => return Some(text),
            _ => return None,
        }
    }
}

/// A `PropDef` expression for the static.
///
/// A named type's kind comes from `__TelemetryProbe::<T>` (see [`probe_items`]), which falls
/// back to `Unspecified` instead of failing when `T` is not a property value: the conversion
/// of the value already reports that, on the user's expression, and once is enough.
/// Also says whether it names a type, i.e. needs [`probe_items`].
pub(crate) fn prop_def(prop: &Prop, params: &Params<'_>) -> (TokenStream, bool) {
    let name = &prop.name;
    let inferred = match &prop.ty {
        _ if crate::naming::is_flag(name) => Inferred::Flag,
        _ if literal_text(prop).is_some() => Inferred::Literal(
            literal_text(prop)
                .map(syn::LitStr::value)
                .unwrap_or_default(),
        ),
        // `name: _ = expr`: the value is checked, no type is recorded.
        Some(Type::Infer(_)) => Inferred::Unspecified,
        Some(ty) => Inferred::Typed(Box::new(ty.clone())),
        None => infer(&prop.value, params),
    };
    let names_a_type = matches!(inferred, Inferred::Typed(_));
    let (written, kind, variants) = match inferred {
        Inferred::Typed(ty) => {
            let written = type_string(&ty);
            (
                written,
                quote_spanned!(ty.span()=> __TelemetryProbe::<#ty>::KIND),
                quote_spanned!(ty.span()=> __TelemetryProbe::<#ty>::VARIANTS),
            )
        }
        Inferred::Hashed => (
            "Hashed".to_owned(),
            quote!(::telemetry_core::__private::ValueKind::Hashed),
            quote!(&[]),
        ),
        Inferred::Literal(text) => (
            "&'static str".to_owned(),
            quote!(::telemetry_core::__private::ValueKind::Enum),
            quote!(&[#text]),
        ),
        Inferred::Flag => (
            "bool".to_owned(),
            quote!(::telemetry_core::__private::ValueKind::Boolean),
            quote!(&[]),
        ),
        Inferred::Unspecified => (
            String::new(),
            quote!(::telemetry_core::__private::ValueKind::Unspecified),
            quote!(&[]),
        ),
    };
    let def = quote! {
        ::telemetry_core::__private::PropDef::new(#name, #written, #kind, #variants)
    };
    (def, names_a_type)
}

/// Items that read `KIND`/`VARIANTS` of a type in a const context without requiring it to be a
/// property value (the `impls` crate's trick): the inherent constants apply when the bound
/// holds; otherwise the trait's defaults do.
pub(crate) fn probe_items() -> TokenStream {
    quote! {
        // `allow`, not `expect`: whether the probe is used depends on the user's types.
        #[allow(dead_code)]
        struct __TelemetryProbe<T: ?::core::marker::Sized>(::core::marker::PhantomData<T>);
        impl<T: ?::core::marker::Sized + ::telemetry_core::__private::PropertyValue>
            __TelemetryProbe<T>
        {
            const KIND: ::telemetry_core::__private::ValueKind =
                <T as ::telemetry_core::__private::PropertyValue>::KIND;
            const VARIANTS: &'static [&'static str] =
                <T as ::telemetry_core::__private::PropertyValue>::VARIANTS;
        }
        trait __TelemetryNotAPropertyValue {
            const KIND: ::telemetry_core::__private::ValueKind =
                ::telemetry_core::__private::ValueKind::Unspecified;
            const VARIANTS: &'static [&'static str] = &[];
        }
        impl<T: ?::core::marker::Sized> __TelemetryNotAPropertyValue for __TelemetryProbe<T> {}
    }
}

/// Checks what only the signature can tell: explicit types must be nameable in the static, and
/// a `&str` parameter is runtime text (rustc would only say "borrowed data escapes").
pub(crate) fn check_against_signature(props: &[Prop], params: &Params<'_>, errors: &mut Errors) {
    for prop in props {
        match &prop.ty {
            Some(ty) if !matches!(ty, Type::Infer(_)) && !nameable(ty, &params.generics, true) => {
                errors.error_with_hint(
                    ty.span(),
                    format!(
                        "the type of `{}` cannot be recorded in the catalog: it uses a generic \
                     parameter, `Self`, `impl Trait` or a non-'static lifetime",
                        prop.name
                    ),
                    format!(
                        "write a concrete type, or `{}: _ = ...` to record no type: the value is \
                     still checked",
                        prop.name
                    ),
                )
            }
            Some(_) => {}
            None => {
                if let Some(param) = runtime_str_param(&prop.value, params) {
                    errors.error_with_hint(
                        prop.value.span(),
                        format!(
                            "`{param}` is runtime text (`&str`) and cannot be sent as a telemetry \
                             property"
                        ),
                        format!(
                            "wrap an identifier as `Hashed({param})`, or map the text to an enum \
                             that derives `PropertyValue`"
                        ),
                    );
                }
            }
        }
    }
}

/// The parameter name, when `expr` is a parameter of type `&str` (not `&'static str`).
fn runtime_str_param(expr: &Expr, params: &Params<'_>) -> Option<String> {
    let Expr::Path(path) = expr else {
        return None;
    };
    let name = path.path.get_ident()?.to_string();
    match params.type_of(&name)? {
        Type::Reference(reference)
            if is_str(&reference.elem)
                && reference
                    .lifetime
                    .as_ref()
                    .is_none_or(|lifetime| lifetime.ident != "static") =>
        {
            Some(name)
        }
        _ => None,
    }
}

fn infer(expr: &Expr, params: &Params<'_>) -> Inferred {
    let typed = |ty: &str| Inferred::Typed(Box::new(syn::parse_str(ty).expect("a valid type")));
    match expr {
        Expr::Paren(e) => infer(&e.expr, params),
        Expr::Group(e) => infer(&e.expr, params),
        Expr::Reference(e) if e.mutability.is_none() => infer(&e.expr, params),
        Expr::Call(call) if path_ends_with(&call.func, &["Hashed"]) => Inferred::Hashed,
        Expr::Call(call) if is_duration_constructor(&call.func) => typed("Duration"),
        Expr::Lit(lit) => match &lit.lit {
            Lit::Bool(_) => typed("bool"),
            Lit::Str(text) => Inferred::Literal(text.value()),
            Lit::Int(int) => typed(if int.suffix().is_empty() {
                "i32"
            } else {
                int.suffix()
            }),
            Lit::Float(float) => typed(if float.suffix().is_empty() {
                "f64"
            } else {
                float.suffix()
            }),
            _ => Inferred::Unspecified,
        },
        Expr::Unary(e) => match e.op {
            UnOp::Not(_) => typed("bool"),
            UnOp::Neg(_) if matches!(&*e.expr, Expr::Lit(_)) => infer(&e.expr, params),
            _ => Inferred::Unspecified,
        },
        Expr::Binary(e) if is_boolean_op(&e.op) => typed("bool"),
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            if BOOL_METHODS.contains(&method.as_str()) {
                typed("bool")
            } else if COUNT_METHODS.contains(&method.as_str()) {
                typed("usize")
            } else {
                Inferred::Unspecified
            }
        }
        Expr::Cast(cast) if nameable(&cast.ty, &params.generics, false) => {
            Inferred::Typed(cast.ty.clone())
        }
        Expr::Path(path) if path.qself.is_none() => match path.path.get_ident() {
            Some(ident) => match params.type_of(&ident.to_string()) {
                Some(ty) if nameable(ty, &params.generics, false) => {
                    Inferred::Typed(Box::new(ty.clone()))
                }
                _ => Inferred::Unspecified,
            },
            None => Inferred::Unspecified,
        },
        _ => Inferred::Unspecified,
    }
}

fn is_boolean_op(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq(_)
            | BinOp::Ne(_)
            | BinOp::Lt(_)
            | BinOp::Le(_)
            | BinOp::Gt(_)
            | BinOp::Ge(_)
            | BinOp::And(_)
            | BinOp::Or(_)
    )
}

fn path_ends_with(func: &Expr, names: &[&str]) -> bool {
    match func {
        Expr::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| names.iter().any(|name| last.ident == name)),
        _ => false,
    }
}

/// `Duration::from_secs(..)` and friends.
fn is_duration_constructor(func: &Expr) -> bool {
    let Expr::Path(path) = func else {
        return false;
    };
    let segments: Vec<_> = path.path.segments.iter().collect();
    matches!(
        segments.as_slice(),
        [.., ty, function] if ty.ident == "Duration" && function.ident.to_string().starts_with("from_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn inferred(sig: Signature, expr: Expr) -> String {
        let params = Params::of(&sig);
        match infer(&expr, &params) {
            Inferred::Typed(ty) => type_string(&ty),
            Inferred::Hashed => "Hashed".into(),
            Inferred::Literal(text) => format!("{text:?}"),
            Inferred::Flag => "flag".into(),
            Inferred::Unspecified => String::new(),
        }
    }

    #[test]
    fn infers_from_the_shape_of_the_expression() {
        let sig: Signature = parse_quote!(fn f(id: u64, name: String));
        let cases: [(Expr, &str); 12] = [
            (parse_quote!(Hashed(name)), "Hashed"),
            (parse_quote!(telemetry_core::Hashed(&name)), "Hashed"),
            (parse_quote!(true), "bool"),
            (parse_quote!(3u8), "u8"),
            (parse_quote!(3), "i32"),
            (parse_quote!(-2.5), "f64"),
            (parse_quote!("csv"), "\"csv\""),
            (parse_quote!(id > 3 && id < 9), "bool"),
            (parse_quote!(!name.is_empty()), "bool"),
            (parse_quote!(name.len()), "usize"),
            (parse_quote!(id as u32), "u32"),
            (parse_quote!(Duration::from_millis(5)), "Duration"),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                inferred(sig.clone(), expr.clone()),
                expected,
                "{}",
                quote::quote!(#expr)
            );
        }
    }

    #[test]
    fn names_a_parameter_type_only_when_the_static_can() {
        let sig: Signature = parse_quote!(
            fn f<T, const N: usize>(
                id: u64,
                fmt: ExportFormat,
                maybe: Option<std::time::Duration>,
                generic: T,
                wrapped: Option<T>,
                text: String,
                borrowed: &str,
                constant: &'static str,
                single: U,
                by_ref: &Entry,
                short: &'a Entry,
                Path(project_id): Path<u32>,
                (a, b): (u8, u8),
            )
        );
        let cases: [(Expr, &str); 12] = [
            (parse_quote!(id), "u64"),
            (parse_quote!(fmt), "ExportFormat"),
            (parse_quote!(maybe), "Option<std::time::Duration>"),
            (parse_quote!(generic), ""),
            (parse_quote!(wrapped), ""),
            (parse_quote!(text), ""),
            (parse_quote!(borrowed), ""),
            (parse_quote!(constant), "&'static str"),
            (parse_quote!(single), ""),
            (parse_quote!(by_ref), "&Entry"),
            (parse_quote!(short), ""),
            (parse_quote!(project_id), "u32"),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                inferred(sig.clone(), expr.clone()),
                expected,
                "{}",
                quote::quote!(#expr)
            );
        }
        assert_eq!(inferred(sig.clone(), parse_quote!(a)), "");
        assert_eq!(inferred(sig, parse_quote!(entry.id)), "");
    }
}
