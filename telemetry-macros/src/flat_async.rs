//! An `async fn` body run in place, without an inner future.
//!
//! Wrapping the body in `async move { .. }.await` (as tracing-attributes does) brings `return`
//! and `?` back through the capture point, but every call then drives two state machines: the
//! function's and the block's, which costs more than the budget with telemetry off. Here the
//! body stays in the function's own state machine, inside a labeled block whose early exits are
//! rewritten: `return x` becomes `break 'body x`, and `e?` the match it stands for, breaking
//! out with the error. Nested closures, `async` blocks and items keep their own `return` and `?`.
//!
//! Only when that rewrite is exact: the declared return type is nameable (no `impl Trait`), the
//! body parses, every `?` is on a function returning `Result` or `Option` (named so), and every
//! macro call is one known not to expand to an exit ([`NO_EXIT_MACROS`]) with no `return` or
//! `?` in its input. Otherwise [`flat_body`] returns `None` and the caller wraps the body in an
//! `async` block as before.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Item, Lifetime, ReturnType, Type};

use crate::prop_def;

/// What a `?` in the body stands for, from the declared return type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exit {
    Result,
    Option,
    /// Neither: a `?` makes the body unsuitable.
    Other,
}

/// The body as an expression of the declared return type, with `return` and `?` turned into
/// breaks out of a labeled block; `None` when that rewrite would not be exact.
pub(crate) fn flat_body(output: &ReturnType, body: &TokenStream) -> Option<TokenStream> {
    if prop_def::contains_impl(output) {
        return None;
    }
    let mut block: Block = syn::parse2(body.clone()).ok()?;
    let (ty, exit) = match output {
        ReturnType::Default => (quote!(()), Exit::Other),
        ReturnType::Type(_, ty) => (quote!(#ty), exit_of(ty)),
    };
    let label = Lifetime::new("'__telemetry_body", Span::mixed_site());
    let mut rewrite = Rewrite {
        label: label.clone(),
        exit,
        exact: true,
    };
    rewrite.visit_block_mut(&mut block);
    if !rewrite.exact {
        return None;
    }
    let ret = syn::Ident::new("__telemetry_flat", Span::mixed_site());
    Some(quote! {{
        let #ret: #ty = #label: #block;
        #ret
    }})
}

fn exit_of(ty: &Type) -> Exit {
    let Type::Path(path) = ty else {
        return Exit::Other;
    };
    match path.path.segments.last().map(|s| s.ident.to_string()) {
        Some(name) if name == "Result" => Exit::Result,
        Some(name) if name == "Option" => Exit::Option,
        _ => Exit::Other,
    }
}

struct Rewrite {
    label: Lifetime,
    exit: Exit,
    /// Cleared when something cannot be rewritten exactly.
    exact: bool,
}

impl VisitMut for Rewrite {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // Their own `return` and `?`: left alone.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = ret.expr.as_mut() {
                    self.visit_expr_mut(value);
                }
                let label = &self.label;
                let value = match &ret.expr {
                    Some(value) => quote!(#value),
                    None => quote!(()),
                };
                *expr = syn::parse_quote_spanned!(ret.span()=> break #label #value);
            }
            Expr::Try(tried) => {
                self.visit_expr_mut(&mut tried.expr);
                let label = &self.label;
                let inner = &tried.expr;
                let span = tried.question_token.span;
                *expr = match self.exit {
                    Exit::Result => syn::parse_quote_spanned! {span=>
                        match #inner {
                            ::core::result::Result::Ok(value) => value,
                            ::core::result::Result::Err(error) => break #label
                                ::core::result::Result::Err(::telemetry_core::__private::convert_error(error)),
                        }
                    },
                    Exit::Option => syn::parse_quote_spanned! {span=>
                        match #inner {
                            ::core::option::Option::Some(value) => value,
                            ::core::option::Option::None => break #label ::core::option::Option::None,
                        }
                    },
                    Exit::Other => {
                        self.exact = false;
                        return;
                    }
                };
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    // A nested `fn`, `impl` or `mod` returns from itself.
    fn visit_item_mut(&mut self, _: &mut Item) {}

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        let known = name.is_some_and(|name| NO_EXIT_MACROS.contains(&name.as_str()));
        if !known || hides_an_exit(&mac.tokens) {
            self.exact = false;
        }
    }
}

/// Macros known not to expand to a `return` or `?` of their own (formatting, logging,
/// assertions, literals). Any other macro may: `anyhow::bail!` and `ensure!` expand to
/// `return Err(..)` with no `return` in their input, so a body that calls one keeps the
/// `async` block, where such a `return` still comes back through the capture point.
const NO_EXIT_MACROS: &[&str] = &[
    // std
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
    // tracing and log
    "debug",
    "error",
    "event",
    "info",
    "trace",
    "warn",
    "debug_span",
    "error_span",
    "info_span",
    "span",
    "trace_span",
    "warn_span",
    // serde_json
    "json",
];

/// Whether macro input contains `return` or `?` anywhere (the macro may expand them in place).
fn hides_an_exit(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "return",
        TokenTree::Punct(punct) => punct.as_char() == '?',
        // Even inside a closure or block in the macro input: being conservative costs only the
        // flat form.
        TokenTree::Group(group) => hides_an_exit(&group.stream()),
        TokenTree::Literal(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn flat(output: ReturnType, body: TokenStream) -> Option<String> {
        flat_body(&output, &body).map(|tokens| tokens.to_string())
    }

    #[test]
    fn return_and_question_mark_become_breaks() {
        let out = flat(
            parse_quote!(-> Result<u8, E>),
            quote!({
                if x {
                    return Ok(1);
                }
                let y = f()?;
                Ok(y)
            }),
        )
        .unwrap();
        assert!(!out.contains("return"), "{out}");
        assert!(!out.contains('?'), "{out}");
        assert_eq!(out.matches("break").count(), 2, "{out}");
        assert!(out.contains("convert_error"), "{out}");
    }

    #[test]
    fn option_question_marks_break_with_none() {
        let out = flat(parse_quote!(-> Option<u8>), quote!({ Some(f()? + 1) })).unwrap();
        assert!(out.contains("Option :: None"), "{out}");
    }

    #[test]
    fn nested_closures_async_blocks_and_items_keep_their_exits() {
        let out = flat(
            parse_quote!(-> u8),
            quote!({
                let c = || {
                    return 1;
                };
                let a = async {
                    return 2;
                };
                fn inner() -> Option<u8> {
                    Some(g()?)
                }
                c()
            }),
        )
        .unwrap();
        assert_eq!(out.matches("return").count(), 2, "{out}");
        assert_eq!(out.matches('?').count(), 1, "{out}");
        assert!(!out.contains("break"), "{out}");
    }

    #[test]
    fn falls_back_when_the_rewrite_would_not_be_exact() {
        // `?` on a return type that is neither `Result` nor `Option`.
        assert_eq!(flat(parse_quote!(-> Poll<u8>), quote!({ f()? })), None);
        // An exit hidden in a macro call.
        assert_eq!(
            flat(parse_quote!(-> Result<u8, E>), quote!({ Ok(m!(f()?)) })),
            None
        );
        assert_eq!(flat(parse_quote!(-> u8), quote!({ m!(return 1) })), None);
        // `impl Trait` cannot be named in the binding.
        assert_eq!(flat(parse_quote!(-> impl Sized), quote!({ 1 })), None);
        // A body that does not parse.
        assert_eq!(flat(parse_quote!(-> u8), quote!({ let = ; })), None);
        // Macros without exits are fine.
        assert!(
            flat(
                parse_quote!(-> u8),
                quote!({
                    println!("{}", 1);
                    1
                })
            )
            .is_some()
        );
    }
}
