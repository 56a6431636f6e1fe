//! `track!("name", description = "...", props(...), distinct_id = ...)`: a capture from inside a
//! body, registered in the catalog exactly like `#[track_event]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::attr::{MacroKind, parse_event_args};
use crate::diagnostic::Errors;
use crate::expand::{distinct_id, event_static, prop_values};
use crate::prop_def::{self, Params};
use crate::validate::{self, DescriptionSource};

/// Parses, validates and expands one `track!` invocation into a block.
pub(crate) fn track(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = parse_event_args(input, MacroKind::Inline, &mut errors);
    // The enclosing function is unknown here, so no parameter types either.
    let params = Params::none();
    prop_def::check_against_signature(&args.props, &params, &mut errors);
    let event = validate::event(
        args,
        MacroKind::Inline,
        DescriptionSource::Required,
        &mut errors,
    );
    match (event, errors.finish()) {
        (Some(event), Ok(())) => {
            let definition = event_static(&event, &params, "", Span::call_site());
            let values = prop_values(&event);
            let distinct = distinct_id(&event);
            quote! {{
                #definition
                if ::telemetry_core::__private::is_active() {
                    ::telemetry_core::__private::emit(&__TELEMETRY_EVENT, #values, #distinct);
                }
            }}
        }
        (_, Err(error)) => {
            let errors = error.to_compile_error();
            quote!({ #errors })
        }
        (None, Ok(())) => unreachable!("validation fails only with an error"),
    }
}
