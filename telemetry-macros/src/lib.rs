//! Procedural macros of [`telemetry-core`](https://docs.rs/telemetry-core): `#[track_event]`,
//! `track!` and `#[derive(PropertyValue)]`.
//!
//! Do not depend on this crate directly: use the re-exports `telemetry_core::track_event`,
//! `telemetry_core::track!` and `telemetry_core::PropertyValue`. Expansions name only
//! `::telemetry_core::__private` paths, and this crate is pinned to the exact version of
//! `telemetry-core` it was released with.
//!
//! Each macro runs in three steps, one file each: parse (`attr.rs`), validate (`validate.rs`,
//! with the name rules from the `telemetry-naming` crate), expand (`expand.rs`, `track.rs`,
//! `derive_property_value.rs`). Validation reports every problem at once, each spanned on the
//! offending token with a `help:` line; after an error the original item is emitted untouched,
//! so the first error is not buried under follow-on ones.

mod attr;
mod derive_property_value;
mod diagnostic;
mod doc;
mod expand;
mod flat_async;
mod prop_def;
mod track;
mod type_names;
mod validate;

use proc_macro::TokenStream;
// The name rules, shared with telemetry-core's catalog.
use telemetry_naming as naming;

use crate::attr::{MacroKind, parse_event_args};
use crate::diagnostic::{Errors, errors_then_original};
use crate::prop_def::Params;
use crate::validate::DescriptionSource;

/// Captures an event each time the function runs, and registers it in the catalog.
///
/// ```
/// use telemetry_core::{Hashed, PropertyValue, track_event};
///
/// #[derive(Clone, Copy, PropertyValue)]
/// enum Plan { Free, Team }
///
/// pub struct Entry { pub project_id: u64, pub owner: String }
///
/// /// A time entry was stopped. (The first doc paragraph is the event's description.)
/// #[track_event(
///     "timer.stopped",
///     on = "success",
///     props(project_id = Hashed(entry.project_id), duration_seconds = secs, plan, source = "api"),
/// )]
/// fn stop_timer(entry: &Entry, secs: u64, plan: Plan) -> Result<u64, String> {
///     Ok(secs)
/// }
/// # let entry = Entry { project_id: 1, owner: "u-1".into() };
/// # assert_eq!(stop_timer(&entry, 3, Plan::Team), Ok(3));
/// ```
///
/// Arguments, after the event name (a `"resource.action"` string literal):
///
/// - `on = "call" | "return" | "success" | "failure"`: when to capture. `"return"` (the default)
///   captures after the body whatever it returned; `"success"`/`"failure"` look at the return
///   value (`Ok`/`Err`, `Some`/`None`, HTTP status below 400 or not, or
///   `telemetry_core::Outcome`); `"call"` captures on entry.
/// - `props(name = expr, typed: Type = expr, shorthand)`: properties, evaluated before the body
///   and only when telemetry is active. Names are snake_case and must not denote personal data;
///   `has_*`/`is_*` names are flags and take a `bool`. Values must implement
///   `telemetry_core::PropertyValue` (wrap identifiers in `Hashed(..)`); text is accepted only
///   as a string literal written right here (`source = "api"`), never a `&str` computed at run
///   time, nor a `const`/`static` one (the macro cannot tell it from leaked text).
///   The catalog records each value's type when it can name it: written (`n: u64 = ...`), a
///   parameter's type, or obvious from the expression. `name: _ = expr` records none, for a
///   parameter typed with a generic of an enclosing `impl<Id>` (invisible to the attribute).
/// - `distinct_id = expr`: the subject of the event, sent only as a salted hash.
/// - `description = "..."`: overrides the doc comment. One of the two is required.
///
/// Works on `fn` and `async fn`, free functions and methods, generic functions and axum
/// handlers (the future stays `Send`). The signature and attributes are kept as written. The
/// body of an `unsafe fn` is not wrapped in `unsafe { }`, so `unsafe_op_in_unsafe_fn` still
/// applies to it. `#[track_caller]` works with `on = "call"` and is rejected otherwise (the
/// body then runs in a closure, which does not forward the caller's location). Methods of an
/// `#[async_trait]` impl are rejected: the capture would run before the body.
#[proc_macro_attribute]
pub fn track_event(args: TokenStream, item: TokenStream) -> TokenStream {
    track_event_impl(args.into(), item.into()).into()
}

fn track_event_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors = Errors::default();
    let parsed_args = parse_event_args(args, MacroKind::Attribute, &mut errors);
    let Some(function) = validate::function(item.clone(), &mut errors) else {
        // Still check the arguments, so that every mistake shows in one compile.
        validate::event(
            parsed_args,
            MacroKind::Attribute,
            DescriptionSource::Unknown,
            &mut errors,
        );
        let error = errors
            .finish()
            .expect_err("validate::function reported why");
        return errors_then_original(error, item);
    };
    validate::track_caller(
        &function.attrs,
        parsed_args.on.as_ref().map(|on| on.trigger),
        &mut errors,
    );
    let params = Params::of(&function.sig);
    prop_def::check_against_signature(&parsed_args.props, &params, &mut errors);
    let description = DescriptionSource::DocComment {
        attrs: &function.attrs,
        fn_name: &function.sig.ident,
    };
    let event = validate::event(parsed_args, MacroKind::Attribute, description, &mut errors);
    match (event, errors.finish()) {
        (Some(event), Ok(())) => expand::track_event(function, &event),
        (_, Err(error)) => errors_then_original(error, item),
        (None, Ok(())) => unreachable!("validation fails only with an error"),
    }
}

/// Captures an event from inside a body, for values only known there; registered in the
/// catalog like `#[track_event]` (trigger `inline`).
///
/// ```
/// use telemetry_core::track;
///
/// fn export(rows: usize) {
///     track!(
///         "invoice.exported",
///         description = "An invoice was exported.",
///         props(format = "pdf", rows, has_rows = rows > 0)
///     );
/// }
/// # export(3);
/// ```
///
/// Takes `description = "..."` (required: there is no doc comment to read), `props(...)` and
/// `distinct_id = expr`, with the same rules as `#[track_event]`. Expands to a block of type `()`.
#[proc_macro]
pub fn track(input: TokenStream) -> TokenStream {
    track::track(input.into()).into()
}

/// Makes an enum of unit variants, or a newtype over a number or bool, a property value.
///
/// ```
/// use telemetry_core::{PropertyValue, ValueKind};
///
/// #[derive(PropertyValue)]
/// enum ExportFormat {
///     Csv,                          // "csv"
///     #[property(rename = "xlsx")]
///     Excel,                        // "xlsx"
/// }
///
/// #[derive(PropertyValue)]
/// struct ProjectId(i64);            // sent as the integer, kind `integer`
///
/// assert_eq!(ExportFormat::VARIANTS, ["csv", "xlsx"]);
/// assert_eq!(<ProjectId as PropertyValue>::KIND, ValueKind::Integer);
/// ```
///
/// The catalog lists an enum's values. Structs other than such newtypes, newtypes over text,
/// unions, generic types and variants with fields are rejected: a property is one of a fixed
/// set of values or a number, never data. The derive is the only way to implement the sealed
/// `PropertyValue` trait outside `telemetry-core`. After an error it still emits a stub impl,
/// so the type's uses do not add errors of their own.
#[proc_macro_derive(PropertyValue, attributes(property))]
pub fn derive_property_value(input: TokenStream) -> TokenStream {
    derive_property_value::derive(input.into()).into()
}
