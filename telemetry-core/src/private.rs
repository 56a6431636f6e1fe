//! The hidden bridge between `telemetry-macros` and this crate.
//!
//! Macro expansions name only `::telemetry_core::__private::…`, so a user depends on
//! `telemetry-core` alone. The macros crate is pinned to this exact version (`=x.y.z`), so the
//! two always agree on what lives here. Not public API: anything may change in any release.

use std::time::Duration;

use crate::property::{HashInput, HashSource};

pub use crate::capture::{Pending, is_active};
pub use crate::definition::{EventDef, PropDef, Registration, Site, Trigger};
pub use crate::property::{PropValue, PropertyValue, StaticText, ValueKind};
pub use core::option::Option::{None, Some};
pub use inventory::submit;
/// The box an `async fn`'s pending capture lives in (named by path: the user may shadow `Box`).
pub use std::boxed::Box;

#[path = "private/internals.rs"]
pub mod internals;

/// The seal of [`PropertyValue`]: implemented by this crate's impls and by
/// `#[derive(PropertyValue)]` only. Implementing it by hand voids the guarantee that the kind
/// shown in the transparency document is the kind that is sent.
#[diagnostic::on_unimplemented(
    message = "`PropertyValue` cannot be implemented by hand for `{Self}`: the trait is sealed",
    label = "implement it with #[derive(PropertyValue)] instead",
    note = "derive it on an enum of unit variants or on a newtype over a number or bool; send \
            identifiers as `Hashed(..)`: the kind the catalog shows must be the kind that is sent"
)]
pub trait Sealed {}

/// A compile-time table of texts: a derived enum's variant names, or the one string literal of
/// a `props(name = "literal")`. Being an associated `const`, it cannot hold runtime text.
pub trait StaticTexts {
    /// The texts, in order.
    const TEXTS: &'static [&'static str];
}

/// The value of a `has_*`/`is_*` property: a `bool`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a bool: `has_*` and `is_*` properties are flags",
    label = "expected a bool here",
    note = "a flag says whether something exists or holds, never what it is: give it a bool \
            (e.g. `has_email = user.email.is_some()`), or rename the property"
)]
pub trait FlagValue: PropertyValue {}
impl FlagValue for bool {}
impl<T: FlagValue + ?Sized> FlagValue for &T {}

/// What a `#[derive(PropertyValue)]` newtype may wrap: a bool, a number or a [`Duration`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be wrapped by a #[derive(PropertyValue)] newtype",
    label = "not a bool, number or Duration",
    note = "a newtype property wraps a bool, an integer, a float or a Duration; text is never a \
            property value: send identifiers as `Hashed(..)` and map other text to an enum that \
            derives `PropertyValue`"
)]
pub trait NewtypeInner: PropertyValue {
    /// The newtype's kind: the inner value's.
    const INNER_KIND: ValueKind = <Self as PropertyValue>::KIND;
    /// The newtype's value: the inner value's.
    #[inline(always)]
    fn inner_value(&self) -> PropValue {
        self.to_prop_value()
    }
}
macro_rules! newtype_inner {
    ($($t:ty),*) => {$( impl NewtypeInner for $t {} )*};
}
newtype_inner!(
    bool, i8, i16, i32, i64, isize, i128, u8, u16, u32, u64, usize, u128, f32, f64, Duration
);

/// Converts one property value (used by the expansion, spanned on the user's expression).
#[inline(always)]
pub fn prop<T: PropertyValue + ?Sized>(value: &T) -> PropValue {
    value.to_prop_value()
}

/// Converts the value of a `has_*`/`is_*` property, which must be a `bool`.
#[inline(always)]
pub fn flag<T: FlagValue + ?Sized>(value: &T) -> PropValue {
    value.to_prop_value()
}

/// Converts a `distinct_id = …` value into its hash input.
#[inline(always)]
pub fn distinct<T: HashSource + ?Sized>(value: &T) -> HashInput {
    value.hash_input()
}

/// `track!`: capture now.
#[inline(always)]
pub fn emit<const N: usize>(
    def: &'static EventDef,
    props: [PropValue; N],
    distinct_id: Option<HashInput>,
) {
    Pending::new(def, props, distinct_id).emit();
}

/// The error conversion of a `?` in an instrumented `async fn` body, which the attribute runs in
/// place with its `?` rewritten (telemetry-macros' `flat_async.rs`). A function rather than
/// `From::from` at the user's `?`, so that lints about the conversion (clippy's
/// `useless_conversion` when the error type is already the function's) do not fire on it.
#[inline(always)]
pub fn convert_error<E, F: From<E>>(error: E) -> F {
    F::from(error)
}
