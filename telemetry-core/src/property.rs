//! Property values: the only things an event may carry.
//!
//! A value must implement [`PropertyValue`]. It is implemented for `bool`, integers, floats,
//! `&'static str` (compile-time text, never user input), [`Duration`], `Option` of any of these,
//! [`Hashed`] and enums that `#[derive(PropertyValue)]`. A `String` or a borrowed `&str` built at
//! runtime is deliberately *not* a property value: it is where names, e-mail addresses and free
//! text leak from. Wrap an identifier in [`Hashed`] or map the text to an enum instead.

use std::time::Duration;

/// What kind of value a property holds, as shown in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Integer,
    /// A floating point number.
    Float,
    /// A duration, sent as seconds (a float).
    Duration,
    /// One of a fixed set of compile-time strings (an enum or a `&'static str`).
    Enum,
    /// A salted SHA-256 of the value, 64 lowercase hex characters.
    Hashed,
    /// The macro could not name the type; the compiler still checked it is a property value.
    Unspecified,
}

impl ValueKind {
    /// The lowercase name used in the catalog.
    ///
    /// ```
    /// assert_eq!(telemetry_core::ValueKind::Hashed.as_str(), "hashed");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ValueKind::Boolean => "boolean",
            ValueKind::Integer => "integer",
            ValueKind::Float => "float",
            ValueKind::Duration => "duration",
            ValueKind::Enum => "enum",
            ValueKind::Hashed => "hashed",
            ValueKind::Unspecified => "unspecified",
        }
    }
}

/// The input of a [`Hashed`] value, kept raw until the salted hash is computed off the hot path.
#[derive(Debug, Clone, PartialEq)]
pub enum HashInput {
    /// A signed integer identifier.
    Int(i64),
    /// An unsigned integer identifier.
    UInt(u64),
    /// A textual identifier.
    Text(Box<str>),
    /// Raw bytes (for example a UUID).
    Bytes(Box<[u8]>),
}

impl HashInput {
    /// The canonical bytes that get salted and hashed.
    pub(crate) fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            HashInput::Int(v) => std::borrow::Cow::Owned(v.to_string().into_bytes()),
            HashInput::UInt(v) => std::borrow::Cow::Owned(v.to_string().into_bytes()),
            HashInput::Text(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            HashInput::Bytes(b) => std::borrow::Cow::Borrowed(b),
        }
    }
}

/// A captured property value, in the compact form that travels through the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// `None`: sent as JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A compile-time string (enum variant or `&'static str`).
    Str(&'static str),
    /// A value to be sent as its salted SHA-256.
    Hashed(HashInput),
}

/// A type that may be sent as an event property.
///
/// Implemented for `bool`, integers, floats, `&'static str`, [`Duration`], `Option<T>`,
/// [`Hashed`] and enums deriving it:
///
/// ```
/// use telemetry_core::PropertyValue;
///
/// #[derive(PropertyValue)]
/// enum ExportFormat { Csv, Excel }
///
/// assert_eq!(ExportFormat::Excel.to_prop_value(), telemetry_core::PropValue::Str("excel"));
/// ```
///
/// A runtime `String` is rejected at compile time:
///
/// ```compile_fail
/// use telemetry_core::PropertyValue;
/// let name = String::from("Secret project");
/// let _ = name.to_prop_value();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a telemetry property",
    label = "not a property value",
    note = "property values are bool, integers, floats, &'static str, Duration, Option of these, \
            Hashed(..) and enums with #[derive(PropertyValue)]",
    note = "runtime text can carry personal data: wrap identifiers as `Hashed(value)` or map the \
            text to an enum that derives `PropertyValue`"
)]
pub trait PropertyValue {
    /// The kind shown in the catalog.
    const KIND: ValueKind;
    /// The allowed values, for enums (shown in the catalog); empty otherwise.
    const VARIANTS: &'static [&'static str] = &[];
    /// Converts the value into its compact captured form.
    fn to_prop_value(&self) -> PropValue;
}

impl PropertyValue for bool {
    const KIND: ValueKind = ValueKind::Boolean;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Bool(*self)
    }
}

macro_rules! signed {
    ($($t:ty),*) => {$(
        impl PropertyValue for $t {
            const KIND: ValueKind = ValueKind::Integer;
            #[inline]
            fn to_prop_value(&self) -> PropValue {
                PropValue::Int(*self as i64)
            }
        }
    )*};
}
macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl PropertyValue for $t {
            const KIND: ValueKind = ValueKind::Integer;
            #[inline]
            fn to_prop_value(&self) -> PropValue {
                PropValue::UInt(*self as u64)
            }
        }
    )*};
}
signed!(i8, i16, i32, i64, isize);
unsigned!(u8, u16, u32, u64, usize);

impl PropertyValue for i128 {
    const KIND: ValueKind = ValueKind::Integer;
    fn to_prop_value(&self) -> PropValue {
        // Saturate: a 128-bit count beyond i64 is not a product metric.
        PropValue::Int((*self).clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }
}

impl PropertyValue for u128 {
    const KIND: ValueKind = ValueKind::Integer;
    fn to_prop_value(&self) -> PropValue {
        PropValue::UInt((*self).min(u64::MAX as u128) as u64)
    }
}

impl PropertyValue for f32 {
    const KIND: ValueKind = ValueKind::Float;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Float(f64::from(*self))
    }
}

impl PropertyValue for f64 {
    const KIND: ValueKind = ValueKind::Float;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Float(*self)
    }
}

impl PropertyValue for &'static str {
    const KIND: ValueKind = ValueKind::Enum;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Str(self)
    }
}

impl PropertyValue for Duration {
    const KIND: ValueKind = ValueKind::Duration;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Float(self.as_secs_f64())
    }
}

impl<T: PropertyValue> PropertyValue for Option<T> {
    const KIND: ValueKind = T::KIND;
    const VARIANTS: &'static [&'static str] = T::VARIANTS;
    fn to_prop_value(&self) -> PropValue {
        match self {
            Some(v) => v.to_prop_value(),
            None => PropValue::Null,
        }
    }
}

impl<T: PropertyValue + ?Sized> PropertyValue for &T
where
    T: NotStr,
{
    const KIND: ValueKind = T::KIND;
    const VARIANTS: &'static [&'static str] = T::VARIANTS;
    fn to_prop_value(&self) -> PropValue {
        (**self).to_prop_value()
    }
}

/// Keeps the blanket `&T` impl from overlapping with `&'static str`. Sealed.
#[doc(hidden)]
pub trait NotStr {}
macro_rules! not_str {
    ($($t:ty),*) => {$( impl NotStr for $t {} )*};
}
not_str!(
    bool, i8, i16, i32, i64, isize, i128, u8, u16, u32, u64, usize, u128, f32, f64, Duration
);
impl<T> NotStr for Option<T> {}
impl<T> NotStr for Hashed<T> {}

/// Values that can be pseudonymised with [`Hashed`]: integers, text and bytes.
///
/// ```
/// use telemetry_core::{HashSource, HashInput};
/// assert_eq!(42u32.hash_input(), HashInput::UInt(42));
/// ```
pub trait HashSource {
    /// The raw input of the salted hash.
    fn hash_input(&self) -> HashInput;
}

macro_rules! hash_int {
    ($variant:ident, $as:ty: $($t:ty),*) => {$(
        impl HashSource for $t {
            fn hash_input(&self) -> HashInput { HashInput::$variant(*self as $as) }
        }
    )*};
}
hash_int!(Int, i64: i8, i16, i32, i64, isize);
hash_int!(UInt, u64: u8, u16, u32, u64, usize);

impl HashSource for str {
    fn hash_input(&self) -> HashInput {
        HashInput::Text(self.into())
    }
}
impl HashSource for String {
    fn hash_input(&self) -> HashInput {
        HashInput::Text(self.as_str().into())
    }
}
impl HashSource for [u8] {
    fn hash_input(&self) -> HashInput {
        HashInput::Bytes(self.into())
    }
}
impl<const N: usize> HashSource for [u8; N] {
    fn hash_input(&self) -> HashInput {
        HashInput::Bytes(self.as_slice().into())
    }
}
impl HashSource for Vec<u8> {
    fn hash_input(&self) -> HashInput {
        HashInput::Bytes(self.as_slice().into())
    }
}
impl<T: HashSource + ?Sized> HashSource for &T {
    fn hash_input(&self) -> HashInput {
        (**self).hash_input()
    }
}

/// An identifier sent only as its salted SHA-256 (64 lowercase hex characters).
///
/// The salt is per install and never leaves the process, so the same id gives the same hash
/// within one install and an unlinkable one elsewhere. Use it for record and user ids:
///
/// ```
/// use telemetry_core::{Hashed, PropertyValue, ValueKind};
/// let user_id = String::from("u-1842");
/// let value = Hashed(&user_id);
/// assert_eq!(<Hashed<&String> as PropertyValue>::KIND, ValueKind::Hashed);
/// # let _ = value;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashed<T>(pub T);

impl<T: HashSource> PropertyValue for Hashed<T> {
    const KIND: ValueKind = ValueKind::Hashed;
    fn to_prop_value(&self) -> PropValue {
        PropValue::Hashed(self.0.hash_input())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_convert_to_their_compact_form() {
        assert_eq!(true.to_prop_value(), PropValue::Bool(true));
        assert_eq!((-3i32).to_prop_value(), PropValue::Int(-3));
        assert_eq!(7usize.to_prop_value(), PropValue::UInt(7));
        assert_eq!(1.5f32.to_prop_value(), PropValue::Float(1.5));
        assert_eq!("csv".to_prop_value(), PropValue::Str("csv"));
        assert_eq!(
            Duration::from_millis(1500).to_prop_value(),
            PropValue::Float(1.5)
        );
        assert_eq!(None::<u8>.to_prop_value(), PropValue::Null);
        assert_eq!(Some(4u8).to_prop_value(), PropValue::UInt(4));
        assert_eq!(PropertyValue::to_prop_value(&&5u8), PropValue::UInt(5));
    }

    #[test]
    fn hashed_keeps_the_raw_input_for_the_worker() {
        assert_eq!(
            Hashed("abc").to_prop_value(),
            PropValue::Hashed(HashInput::Text("abc".into()))
        );
        assert_eq!(
            Hashed(12i64).to_prop_value(),
            PropValue::Hashed(HashInput::Int(12))
        );
        assert_eq!(HashInput::Int(12).bytes().as_ref(), b"12");
    }

    #[test]
    fn wide_integers_saturate() {
        assert_eq!(u128::MAX.to_prop_value(), PropValue::UInt(u64::MAX));
        assert_eq!(i128::MIN.to_prop_value(), PropValue::Int(i64::MIN));
    }
}
