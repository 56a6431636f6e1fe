//! Property values: the only things an event may carry.
//!
//! A value must implement [`PropertyValue`]. It is implemented for `bool`, integers, floats,
//! [`Duration`], `Option` of any of these, [`Hashed`], and the enums and numeric newtypes that
//! `#[derive(PropertyValue)]`. Text is sent only when it was fixed at compile time: a variant name
//! of a derived enum, or a string literal written directly in `props(...)` (the macro sees the
//! literal). Text that exists only at run time is *not* a property value, whatever its type or
//! lifetime (`String`, `&str`, a `&'static str` leaked or read from a `LazyLock`): it is where
//! names, e-mail addresses and free text leak from. Wrap an identifier in [`Hashed`] or map the
//! text to an enum instead.

use std::time::Duration;

/// What kind of value a property holds, as shown in the catalog.
///
/// ```
/// use telemetry_core::{Hashed, PropertyValue, ValueKind};
/// assert_eq!(<u64 as PropertyValue>::KIND, ValueKind::Integer);
/// assert_eq!(<Hashed<u64> as PropertyValue>::KIND, ValueKind::Hashed);
/// ```
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
    /// One of a fixed set of compile-time strings (a derived enum or a string literal).
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
///
/// ```
/// use telemetry_core::{HashInput, HashSource};
/// assert_eq!("u-1842".hash_input(), HashInput::Text("u-1842".into()));
/// ```
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
///
/// ```
/// use std::time::Duration;
/// use telemetry_core::{PropValue, PropertyValue};
/// assert_eq!(true.to_prop_value(), PropValue::Bool(true));
/// assert_eq!(Duration::from_millis(1500).to_prop_value(), PropValue::Float(1.5));
/// assert_eq!(None::<u8>.to_prop_value(), PropValue::Null);
/// ```
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
    /// A compile-time string: an enum variant's name or a literal written in `props(...)`.
    Str(StaticText),
    /// A value to be sent as its salted SHA-256.
    Hashed(HashInput),
}

/// Text fixed at compile time: the only text a property may carry unhashed.
///
/// It cannot be built from a runtime `&str`: its one constructor reads an associated `const`
/// table (the hidden `StaticTexts` trait that the derive and the macros implement), and a
/// `const` cannot hold text read from a file, an environment variable, a `LazyLock` or a leaked
/// `String`.
///
/// ```
/// use telemetry_core::{PropValue, PropertyValue};
///
/// #[derive(PropertyValue)]
/// enum Plan { Free, Team }
///
/// let PropValue::Str(text) = Plan::Team.to_prop_value() else { unreachable!() };
/// assert_eq!(text.as_str(), "team");
/// assert_eq!(text, "team");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaticText(&'static str);

impl StaticText {
    /// Entry `index` of `T`'s compile-time table. Expansions call it inside `const { }`, so an
    /// index out of range is a compile error, not a panic.
    #[doc(hidden)]
    pub const fn nth<T: crate::__private::StaticTexts + ?Sized>(index: usize) -> StaticText {
        StaticText(T::TEXTS[index])
    }

    /// The text.
    ///
    /// ```
    /// use telemetry_core::{PropValue, PropertyValue};
    ///
    /// #[derive(PropertyValue)]
    /// enum Plan { Free, Team }
    ///
    /// let PropValue::Str(text) = Plan::Free.to_prop_value() else { unreachable!() };
    /// assert_eq!(text.as_str(), "free");
    /// ```
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl PartialEq<&str> for StaticText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for StaticText {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// A type that may be sent as an event property.
///
/// Implemented for `bool`, integers, floats, [`Duration`], `Option<T>`, [`Hashed`], and the
/// enums and numeric newtypes that derive it:
///
/// ```
/// use telemetry_core::{PropValue, PropertyValue, ValueKind};
///
/// #[derive(PropertyValue)]
/// enum ExportFormat { Csv, Excel }
///
/// #[derive(PropertyValue)]
/// struct ProjectId(i64);
///
/// assert!(matches!(ExportFormat::Excel.to_prop_value(), PropValue::Str(t) if t == "excel"));
/// assert_eq!(ExportFormat::VARIANTS, ["csv", "excel"]);
/// assert_eq!(ProjectId(7).to_prop_value(), PropValue::Int(7));
/// assert_eq!(<ProjectId as PropertyValue>::KIND, ValueKind::Integer);
/// ```
///
/// # Sealed
///
/// Only this crate's impls and `#[derive(PropertyValue)]` implement it: the trait has a
/// supertrait in the hidden `__private` module. The catalog and the transparency document state
/// each property's [`ValueKind`] from `KIND`, and a hand-written impl could claim `Hashed` while
/// returning raw text, so the document would promise a pseudonym and the event carry a name.
/// With the seal, the kind a user reads is the kind that is sent.
///
/// ```compile_fail
/// use telemetry_core::{PropValue, PropertyValue, ValueKind};
///
/// struct Tenant(String);
/// impl PropertyValue for Tenant {
///     const KIND: ValueKind = ValueKind::Hashed;
///     fn to_prop_value(&self) -> PropValue { PropValue::Null }
/// }
/// ```
///
/// Runtime text is rejected at compile time, whatever its lifetime. A string literal written in
/// `props(kind = "internal")` is accepted by the macro, which sees the literal; a `const` or
/// `static` `&str` is rejected like any other `&str`, because the macro cannot tell it from a
/// leaked one: write the literal inline or use an enum.
///
/// ```compile_fail
/// use telemetry_core::PropertyValue;
/// let name: &'static str = String::from("Secret project").leak();
/// let _ = name.to_prop_value();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a telemetry property",
    label = "not a property value",
    note = "property values are bool, integers, floats, Duration, Option of these, Hashed(..), \
            enums and numeric newtypes with #[derive(PropertyValue)], and string literals written \
            directly in props(...)",
    note = "text that exists at run time can carry personal data, whatever its lifetime: wrap an \
            identifier as `Hashed(value)` or map the text to an enum that derives `PropertyValue`"
)]
pub trait PropertyValue: crate::__private::Sealed {
    /// The kind shown in the catalog.
    ///
    /// ```
    /// use telemetry_core::{PropertyValue, ValueKind};
    /// assert_eq!(<f32 as PropertyValue>::KIND, ValueKind::Float);
    /// ```
    const KIND: ValueKind;
    /// The allowed values, for enums (shown in the catalog); empty otherwise.
    ///
    /// ```
    /// use telemetry_core::PropertyValue;
    ///
    /// #[derive(PropertyValue)]
    /// enum Role { Admin, Member }
    ///
    /// assert_eq!(Role::VARIANTS, ["admin", "member"]);
    /// assert!(<u64 as PropertyValue>::VARIANTS.is_empty());
    /// ```
    const VARIANTS: &'static [&'static str] = &[];
    /// Converts the value into its compact captured form.
    ///
    /// ```
    /// use telemetry_core::{PropValue, PropertyValue};
    /// assert_eq!(Some(3u8).to_prop_value(), PropValue::UInt(3));
    /// ```
    fn to_prop_value(&self) -> PropValue;
}

/// The toolkit's own impls: the seal, then the trait.
macro_rules! property_value {
    ($($t:ty),* => $kind:ident, |$v:ident| $convert:expr) => {$(
        impl crate::__private::Sealed for $t {}
        impl PropertyValue for $t {
            const KIND: ValueKind = ValueKind::$kind;
            #[inline]
            fn to_prop_value(&self) -> PropValue {
                let $v = *self;
                $convert
            }
        }
    )*};
}
property_value!(bool => Boolean, |v| PropValue::Bool(v));
property_value!(i8, i16, i32, i64, isize => Integer, |v| PropValue::Int(v as i64));
property_value!(u8, u16, u32, u64, usize => Integer, |v| PropValue::UInt(v as u64));
// Saturate: a 128-bit count beyond 64 bits is not a product metric.
property_value!(i128 => Integer, |v| PropValue::Int(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64));
property_value!(u128 => Integer, |v| PropValue::UInt(v.min(u64::MAX as u128) as u64));
property_value!(f32 => Float, |v| PropValue::Float(f64::from(v)));
property_value!(f64 => Float, |v| PropValue::Float(v));
property_value!(Duration => Duration, |v| PropValue::Float(v.as_secs_f64()));

impl<T: PropertyValue> crate::__private::Sealed for Option<T> {}
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

impl<T: PropertyValue + ?Sized> crate::__private::Sealed for &T {}
impl<T: PropertyValue + ?Sized> PropertyValue for &T {
    const KIND: ValueKind = T::KIND;
    const VARIANTS: &'static [&'static str] = T::VARIANTS;
    fn to_prop_value(&self) -> PropValue {
        (**self).to_prop_value()
    }
}

/// Values that can be pseudonymised with [`Hashed`]: integers, text and bytes.
///
/// ```
/// use telemetry_core::{HashSource, HashInput};
/// assert_eq!(42u32.hash_input(), HashInput::UInt(42));
/// ```
pub trait HashSource {
    /// The raw input of the salted hash.
    ///
    /// ```
    /// use telemetry_core::{HashInput, HashSource};
    /// assert_eq!((-7i32).hash_input(), HashInput::Int(-7));
    /// ```
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

impl<T: HashSource> crate::__private::Sealed for Hashed<T> {}
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
