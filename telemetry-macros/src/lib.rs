//! STUB
use proc_macro::TokenStream;
/// STUB
#[proc_macro_attribute]
pub fn track_event(_a: TokenStream, item: TokenStream) -> TokenStream { item }
/// STUB
#[proc_macro]
pub fn track(_a: TokenStream) -> TokenStream { TokenStream::new() }
/// STUB
#[proc_macro_derive(PropertyValue)]
pub fn derive_property_value(_a: TokenStream) -> TokenStream { TokenStream::new() }
