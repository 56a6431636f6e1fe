//! The hidden bridge between `telemetry-macros` and this crate.
//!
//! Macro expansions name only `::telemetry_core::__private::…`, so a user depends on
//! `telemetry-core` alone. The macros crate is pinned to this exact version (`=x.y.z`), so the
//! two always agree on what lives here. Not public API: anything may change in any release.

pub use crate::capture::{Outcome, Pending, is_active};
pub use crate::definition::{Classification, EventDef, PropDef, Registration, Site, Trigger};
pub use crate::property::{HashInput, HashSource, NotStr, PropValue, PropertyValue, ValueKind};
pub use core::option::Option::{self, None, Some};
pub use inventory::submit;

/// Converts one property value (used by the expansion, spanned on the user's expression).
#[inline(always)]
pub fn prop<T: PropertyValue + ?Sized>(value: &T) -> PropValue {
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

/// `Classification::infer` for a type named in the expansion.
pub const fn prop_def_of<T: PropertyValue + ?Sized>(
    name: &'static str,
    rust_type: &'static str,
) -> PropDef {
    PropDef::new(name, rust_type, T::KIND, T::VARIANTS)
}
