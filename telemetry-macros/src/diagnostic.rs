//! Error collection: every problem is reported at once, each on its own token with a hint.
//!
//! Like serde_derive, the macros never stop at the first mistake: all errors are combined into
//! one `syn::Error` and emitted together as `compile_error!`s next to the untouched item.

use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// An error whose message carries a `help:` line, rendered the way rustc renders its own.
pub(crate) fn error_with_hint(span: Span, message: impl Display, hint: impl Display) -> syn::Error {
    syn::Error::new(span, format!("{message}\n= help: {hint}"))
}

/// The errors found so far.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    pub(crate) fn error_with_hint(
        &mut self,
        span: Span,
        message: impl Display,
        hint: impl Display,
    ) {
        self.push(error_with_hint(span, message, hint));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// `Ok` when nothing was reported; otherwise every error, in source order.
    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        let Some(combined) = self.combined else {
            return Ok(());
        };
        // Arguments are parsed first and checked after, so errors are found out of order.
        let mut all: Vec<syn::Error> = combined.into_iter().collect();
        if proc_macro::is_available() {
            all.sort_by_key(|error| {
                let span = error.span().unwrap();
                (span.line(), span.column())
            });
        }
        let mut all = all.into_iter();
        let mut sorted = all.next().expect("at least one error");
        all.for_each(|error| sorted.combine(error));
        Err(sorted)
    }
}

/// The output of a macro that failed: its errors, then the item exactly as written, so that
/// rustc still type-checks it and does not add "cannot find function" noise on top.
pub(crate) fn errors_then_original(error: syn::Error, original: TokenStream) -> TokenStream {
    let mut out = error.to_compile_error();
    original.to_tokens(&mut out);
    out
}
