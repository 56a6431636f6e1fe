use telemetry_core::PropertyValue;

#[derive(PropertyValue)]
enum Format<T> {
    Csv,
    #[property(rename = "csv")]
    Comma,
    #[property(rename = "")]
    Empty,
    #[property(alias = "x")]
    Other,
    #[doc(hidden)]
    Marker(std::marker::PhantomData<T>),
}

fn main() {}
