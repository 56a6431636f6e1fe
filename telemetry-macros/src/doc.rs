//! The event description from a doc comment: its first paragraph.
//!
//! The transparency document shows one short text per event, and the first paragraph of a doc
//! comment is by convention the summary, so that is what is taken.

use syn::{Attribute, Expr, Lit, Meta};

/// The first paragraph of the `///` or `/** */` doc comment, lines joined with a space.
///
/// `None` when there is no literal doc text (a `#[doc = include_str!(..)]` is not read).
pub(crate) fn first_paragraph(attrs: &[Attribute]) -> Option<String> {
    let mut paragraph: Vec<&str> = Vec::new();
    let texts: Vec<String> = attrs.iter().filter_map(doc_text).collect();
    for text in &texts {
        // `///` gives one attribute per line; `/** */` gives one attribute with newlines whose
        // lines usually start with ` * `.
        let block = text.contains('\n');
        for line in text.split('\n') {
            let mut line = line.trim();
            if block {
                line = line.strip_prefix('*').map_or(line, str::trim);
            }
            match (line.is_empty(), paragraph.is_empty()) {
                (true, true) => continue,
                (true, false) => return Some(paragraph.join(" ")),
                (false, _) => paragraph.push(line),
            }
        }
    }
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

fn doc_text(attr: &Attribute) -> Option<String> {
    let Meta::NameValue(meta) = &attr.meta else {
        return None;
    };
    if !meta.path.is_ident("doc") {
        return None;
    }
    match &meta.value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Some(text.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn doc_attrs(item: syn::ItemFn) -> Vec<Attribute> {
        item.attrs
    }

    #[test]
    fn takes_the_first_paragraph_of_line_comments() {
        let attrs = doc_attrs(parse_quote! {
            ///
            /// A time entry was stopped.
            ///   It had been running.
            ///
            /// # Errors
            /// Never.
            #[inline]
            fn f() {}
        });
        assert_eq!(
            first_paragraph(&attrs).as_deref(),
            Some("A time entry was stopped. It had been running.")
        );
    }

    #[test]
    fn reads_block_comments_and_doc_attributes() {
        let attrs = doc_attrs(parse_quote! {
            /**
             * An invoice was exported.
             * As CSV or Excel.
             *
             * More.
             */
            fn f() {}
        });
        assert_eq!(
            first_paragraph(&attrs).as_deref(),
            Some("An invoice was exported. As CSV or Excel.")
        );
        let attrs = doc_attrs(parse_quote! {
            #[doc = "Explicit."]
            #[doc(hidden)]
            fn f() {}
        });
        assert_eq!(first_paragraph(&attrs).as_deref(), Some("Explicit."));
    }

    #[test]
    fn none_without_doc_text() {
        let attrs = doc_attrs(parse_quote! {
            ///
            #[doc = include_str!("x.md")]
            #[must_use]
            fn f() {}
        });
        assert_eq!(first_paragraph(&attrs), None);
    }
}
