//! Parsing the arguments of `#[track_event(...)]` and `track!(...)`.
//!
//! Parsing never stops at the first mistake: a bad argument is reported to [`Errors`] and
//! skipped up to the next comma, so one compile shows every problem. Only the shape is checked
//! here; the rules on names and descriptions live in `validate.rs`.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, LitStr, Token, Type};

use crate::diagnostic::{Errors, error_with_hint};

/// Which macro the arguments belong to: they accept different keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacroKind {
    /// `#[track_event("name", ...)]` on a function.
    Attribute,
    /// `track!("name", ...)` inside a body.
    Inline,
}

impl MacroKind {
    pub(crate) fn display(self) -> &'static str {
        match self {
            MacroKind::Attribute => "#[track_event]",
            MacroKind::Inline => "track!",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            MacroKind::Attribute => &["on", "props", "distinct_id", "description"],
            MacroKind::Inline => &["description", "props", "distinct_id"],
        }
    }

    fn example(self) -> &'static str {
        match self {
            MacroKind::Attribute => {
                "write `#[track_event(\"timer.stopped\", props(duration_seconds = secs))]`"
            }
            MacroKind::Inline => {
                "write `track!(\"invoice.exported\", description = \"...\", props(format = fmt))`"
            }
        }
    }
}

/// When a `#[track_event]` function captures, from `on = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    Call,
    Return,
    Success,
    Failure,
    /// `track!`: where the macro is written.
    Inline,
}

impl Trigger {
    const ON_VALUES: [(&'static str, Trigger); 4] = [
        ("call", Trigger::Call),
        ("return", Trigger::Return),
        ("success", Trigger::Success),
        ("failure", Trigger::Failure),
    ];

    /// The variant of `telemetry_core::Trigger` it maps to.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Trigger::Call => "Call",
            Trigger::Return => "Return",
            Trigger::Success => "Success",
            Trigger::Failure => "Failure",
            Trigger::Inline => "Inline",
        }
    }
}

/// `on = "..."`, with the span of the literal (outcome errors point at it).
pub(crate) struct On {
    pub(crate) trigger: Trigger,
    pub(crate) span: Span,
}

/// One `name = expr` (or `name: Type = expr`, or shorthand `name`) inside `props(...)`.
pub(crate) struct Prop {
    /// The name without any `r#`.
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) ty: Option<Type>,
    pub(crate) value: Expr,
}

/// Everything between the parentheses, as written.
#[derive(Default)]
pub(crate) struct EventArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) on: Option<On>,
    pub(crate) props: Vec<Prop>,
    pub(crate) distinct_id: Option<Expr>,
    pub(crate) description: Option<LitStr>,
}

/// Parses the arguments, reporting every malformed one to `errors`.
pub(crate) fn parse_event_args(
    tokens: TokenStream,
    kind: MacroKind,
    errors: &mut Errors,
) -> EventArgs {
    let parser = |input: ParseStream<'_>| Ok(parse_args(input, kind, errors));
    parser.parse2(tokens).unwrap_or_default()
}

fn parse_args(input: ParseStream<'_>, kind: MacroKind, errors: &mut Errors) -> EventArgs {
    let mut args = EventArgs::default();
    if input.is_empty() {
        errors.error_with_hint(
            Span::call_site(),
            format!("{} needs an event name", kind.display()),
            kind.example(),
        );
        return args;
    }
    if starts_with_key(input) {
        errors.error_with_hint(
            input.span(),
            "missing event name: it comes first, as a string literal",
            kind.example(),
        );
    } else {
        match input.parse::<Expr>() {
            Ok(Expr::Lit(syn::ExprLit {
                lit: Lit::Str(name),
                ..
            })) => args.name = Some(name),
            Ok(other) => errors.error_with_hint(
                other.span(),
                "the event name must be a string literal",
                "write it inline, e.g. `\"timer.stopped\"`: the catalog is built at compile time",
            ),
            Err(error) => {
                errors.push(error);
                skip_to_comma(input);
            }
        }
        expect_comma(input, errors);
    }
    let mut seen: Vec<Ident> = Vec::new();
    while !input.is_empty() {
        if let Err(error) = parse_key_value(input, kind, &mut args, &mut seen, errors) {
            errors.push(error);
            skip_to_comma(input);
        }
        expect_comma(input, errors);
    }
    args
}

/// `key = ...` or `key(...)` next, rather than the event name.
fn starts_with_key(input: ParseStream<'_>) -> bool {
    let fork = input.fork();
    fork.call(Ident::parse_any).is_ok()
        && ((fork.peek(Token![=]) && !fork.peek(Token![==])) || fork.peek(syn::token::Paren))
}

fn parse_key_value(
    input: ParseStream<'_>,
    kind: MacroKind,
    args: &mut EventArgs,
    seen: &mut Vec<Ident>,
    errors: &mut Errors,
) -> syn::Result<()> {
    let key = input.call(Ident::parse_any)?;
    let key_name = key.unraw().to_string();
    if !kind.keys().contains(&key_name.as_str()) {
        errors.push(unknown_key(&key, &key_name, kind));
        skip_to_comma(input);
        return Ok(());
    }
    let duplicate = seen.iter().any(|k| k.unraw() == key_name);
    if duplicate {
        errors.error_with_hint(
            key.span(),
            format!("`{key_name}` is given twice"),
            format!("keep one `{key_name}`"),
        );
    }
    seen.push(key.clone());
    match key_name.as_str() {
        "on" => {
            input.parse::<Token![=]>()?;
            let literal = parse_lit_str(input, "on = \"success\"")?;
            let value = literal.value();
            match Trigger::ON_VALUES.iter().find(|(name, _)| *name == value) {
                Some(&(_, trigger)) if !duplicate => {
                    args.on = Some(On {
                        trigger,
                        span: literal.span(),
                    })
                }
                Some(_) => {}
                None => errors.error_with_hint(
                    literal.span(),
                    format!("`on = \"{value}\"` is not a capture point"),
                    "valid values are \"call\" (on entry), \"return\" (after the body, the \
                     default), \"success\" and \"failure\" (after the body, by its result)",
                ),
            }
        }
        "props" => {
            if input.peek(Token![=]) {
                return Err(error_with_hint(
                    input.span(),
                    "`props` takes a parenthesized list",
                    "write `props(name = value, ...)`",
                ));
            }
            let content;
            syn::parenthesized!(content in input);
            let props = parse_props(&content, errors);
            if !duplicate {
                args.props = props;
            }
        }
        "distinct_id" => {
            input.parse::<Token![=]>()?;
            let value = input.parse::<Expr>()?;
            if !duplicate {
                args.distinct_id = Some(value);
            }
        }
        "description" => {
            input.parse::<Token![=]>()?;
            let literal = parse_lit_str(input, "description = \"A project was created.\"")?;
            if !duplicate {
                args.description = Some(literal);
            }
        }
        _ => unreachable!("every key of MacroKind::keys is handled"),
    }
    Ok(())
}

fn unknown_key(key: &Ident, name: &str, kind: MacroKind) -> syn::Error {
    let valid = kind.keys();
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut hint = format!("valid keys are {list}");
    if kind == MacroKind::Inline && name == "on" {
        hint = format!("`track!` captures where it is written; {hint}");
    } else if let Some(close) = valid.iter().find(|k| is_typo_of(name, k)) {
        hint = format!("did you mean `{close}`? {hint}");
    }
    error_with_hint(
        key.span(),
        format!("unknown key `{name}` in {}", kind.display()),
        hint,
    )
}

/// A likely typo: one is a prefix of the other, or they are a few edits apart.
fn is_typo_of(written: &str, key: &str) -> bool {
    if written.len() > 2 && (key.starts_with(written) || written.starts_with(key)) {
        return true;
    }
    let allowed = if key.len() >= 6 { 2 } else { 1 };
    edit_distance(written, key) <= allowed
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A string literal, or an error showing `example`.
fn parse_lit_str(input: ParseStream<'_>, example: &str) -> syn::Result<LitStr> {
    match input.parse::<Expr>()? {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(literal),
            ..
        }) => Ok(literal),
        other => Err(error_with_hint(
            other.span(),
            "expected a string literal",
            format!("write `{example}`"),
        )),
    }
}

fn parse_props(content: ParseStream<'_>, errors: &mut Errors) -> Vec<Prop> {
    let mut props = Vec::new();
    while !content.is_empty() {
        match parse_prop(content) {
            Ok(prop) => props.push(prop),
            Err(error) => {
                errors.push(error);
                skip_to_comma(content);
            }
        }
        expect_comma(content, errors);
    }
    props
}

fn parse_prop(content: ParseStream<'_>) -> syn::Result<Prop> {
    let hint = "write `props(name = value)`, e.g. `props(project_id = id)`";
    if !content.peek(Ident::peek_any) {
        return Err(error_with_hint(
            content.span(),
            "expected a property name",
            hint,
        ));
    }
    let name = content.call(Ident::parse_any)?;
    if content.peek(Token![.]) {
        return Err(error_with_hint(
            name.span(),
            "a property name is one snake_case identifier",
            "join the parts with `_` instead of `.`",
        ));
    }
    let ty = if content.peek(Token![:]) && !content.peek(Token![::]) {
        content.parse::<Token![:]>()?;
        Some(content.parse::<Type>()?)
    } else {
        None
    };
    let value = if content.peek(Token![=]) {
        content.parse::<Token![=]>()?;
        content.parse::<Expr>()?
    } else if ty.is_none() && (content.is_empty() || content.peek(Token![,])) {
        // Shorthand, as in tracing: `props(secs)` means `props(secs = secs)`.
        Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: name.clone().into(),
        })
    } else {
        return Err(error_with_hint(
            content.span(),
            "expected `=` and a value",
            hint,
        ));
    };
    Ok(Prop {
        name: name.unraw().to_string(),
        name_span: name.span(),
        ty,
        value,
    })
}

/// Consumes the comma after an argument; anything else there is reported and skipped.
fn expect_comma(input: ParseStream<'_>, errors: &mut Errors) {
    if input.is_empty() {
        return;
    }
    if let Err(error) = input.parse::<Token![,]>() {
        errors.push(error);
        skip_to_comma(input);
        let _ = input.parse::<Option<Token![,]>>();
    }
}

/// Skips the rest of a malformed argument, up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> (EventArgs, Result<(), syn::Error>) {
        let mut errors = Errors::default();
        let args = parse_event_args(tokens, MacroKind::Attribute, &mut errors);
        (args, errors.finish())
    }

    fn messages(result: Result<(), syn::Error>) -> Vec<String> {
        result
            .err()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn parses_every_key() {
        let (args, result) = parse(quote!(
            "timer.stopped",
            on = "success",
            props(a = x, b: u64 = y.z, c),
            distinct_id = user.id,
            description = "Stopped."
        ));
        assert!(result.is_ok());
        assert_eq!(args.name.unwrap().value(), "timer.stopped");
        assert_eq!(args.on.unwrap().trigger, Trigger::Success);
        let names: Vec<_> = args.props.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(args.props[1].ty.is_some());
        assert!(args.distinct_id.is_some());
        assert_eq!(args.description.unwrap().value(), "Stopped.");
    }

    #[test]
    fn reports_every_bad_argument() {
        let (args, result) = parse(quote!(
            "a.b", on = "later", prop(x = 1), on = "call", props(y = 2,, z = 3)
        ));
        let messages = messages(result);
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("`on = \"later\"`"));
        assert!(messages[1].contains("unknown key `prop`"));
        assert!(messages[1].contains("did you mean `props`?"));
        assert!(messages[2].contains("`on` is given twice"));
        assert!(messages[3].contains("expected a property name"));
        // Recovery kept the good parts.
        assert_eq!(args.props.len(), 2);
    }

    #[test]
    fn the_name_must_be_a_literal_and_come_first() {
        let messages = messages(parse(quote!(NAME, on = "call")).1);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("must be a string literal"));
        let messages = messages_of(quote!(on = "call"));
        assert!(messages[0].contains("missing event name"));
    }

    fn messages_of(tokens: TokenStream) -> Vec<String> {
        messages(parse(tokens).1)
    }

    #[test]
    fn track_rejects_on() {
        let mut errors = Errors::default();
        parse_event_args(
            quote!("a.b", on = "call", description = "x"),
            MacroKind::Inline,
            &mut errors,
        );
        let messages = messages(errors.finish());
        assert!(messages[0].contains("unknown key `on` in track!"));
        assert!(messages[0].contains("captures where it is written"));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("props", "props"), 0);
        assert_eq!(edit_distance("prop", "props"), 1);
        assert_eq!(edit_distance("descripton", "description"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
