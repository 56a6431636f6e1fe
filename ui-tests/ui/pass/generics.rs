// Generic functions, lifetimes, where clauses, `impl Trait` in argument and return position.
#![deny(warnings)]

use std::fmt::Display;

use telemetry_core::{PropertyValue, track_event};

/// Items were copied.
#[track_event("items.copied", props(count = items.len(), label = label))]
fn copy_all<'a, T: Clone + 'a, L>(items: &'a [T], label: L) -> Vec<T>
where
    L: PropertyValue,
{
    items.to_vec()
}

/// Items were listed.
#[track_event("items.listed", props(count = count))]
fn list(count: u32) -> impl Iterator<Item = u32> {
    0..count
}

/// Items were shown.
#[track_event("items.shown", on = "success")]
fn show(value: impl Display) -> Result<impl Display, String> {
    Ok(format!("<{value}>"))
}

/// The first item was borrowed.
#[track_event("items.first_borrowed", on = "success")]
fn first<'a, T>(items: &'a [T]) -> Option<&'a T> {
    items.first()
}

/// A const-generic buffer was filled.
#[track_event("buffer.filled", props(size = N))]
fn fill<const N: usize>(value: u8) -> [u8; N] {
    [value; N]
}

struct Wrapper<T>(T);

impl<T: Clone> Wrapper<T> {
    /// A wrapped value was cloned.
    #[track_event("wrapper.cloned", props(id = id))]
    fn get(&self, id: u64) -> T {
        let _ = id;
        self.0.clone()
    }
}

struct Repo<Id>(Vec<Id>);

impl<Id: PropertyValue + Copy> Repo<Id> {
    /// A record was fetched. `Id` is the impl's generic, invisible to the attribute: `: _`
    /// records no type for it.
    #[track_event("repo.fetched", on = "success", props(id: _ = id, first = self.0.first().copied()))]
    fn fetch(&self, id: Id) -> Option<Id> {
        self.0.first().copied().or(Some(id))
    }
}

/// Items were listed asynchronously.
#[track_event("items.fetched", props(count = count))]
async fn fetch(count: u32) -> impl Iterator<Item = u32> {
    0..count
}

fn main() {
    assert_eq!(copy_all(&[1, 2], true).len(), 2);
    assert_eq!(list(3).count(), 3);
    assert_eq!(show(1).unwrap().to_string(), "<1>");
    assert_eq!(first(&[1]), Some(&1));
    assert_eq!(fill::<2>(1), [1, 1]);
    assert_eq!(Wrapper("x").get(1), "x");
    let _ = fetch(1);
    assert_eq!(Repo(vec![1u8]).fetch(2), Some(1));
}
