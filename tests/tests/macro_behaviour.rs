//! What `#[track_event]`, `track!` and `#[derive(PropertyValue)]` do at run time, observed
//! through `telemetry_core::testing::record`, and what they register in the catalog.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use telemetry_core::testing::{self, RecordedEvent, record, record_async, record_with};
use telemetry_core::{EventDef, Hashed, PropertyValue, Trigger, ValueKind, track, track_event};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PropertyValue)]
enum ExportFormat {
    Csv,
    ExcelXlsx,
    #[property(rename = "pdf_a")]
    Pdf,
}

/// The expected pseudonym, computed here rather than by the toolkit: lowercase hex SHA-256 of
/// the recorders' documented salt followed by the value's canonical bytes (decimal for numbers).
fn sha256_hex(input: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(testing::TEST_SALT);
    hasher.update(input);
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn names(events: &[RecordedEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.name).collect()
}

fn definition(name: &str) -> &'static EventDef {
    telemetry_core::catalog()
        .events()
        .iter()
        .copied()
        .find(|def| def.name == name)
        .unwrap_or_else(|| panic!("`{name}` is not in the catalog"))
}

fn prop_kinds(def: &EventDef) -> Vec<(&'static str, ValueKind)> {
    def.props.iter().map(|p| (p.name, p.kind)).collect()
}

// ---------------------------------------------------------------------------------------------
// `on = ...`

/// A value was doubled.
#[track_event("behaviour.returned", props(count = n))]
fn returned(n: u32) -> u32 {
    n * 2
}

/// A value was looked at.
#[track_event("behaviour.called", on = "call", props(count = n))]
fn called(n: u32) -> u32 {
    n
}

/// A checked division ran.
#[track_event("behaviour.divided", on = "success", props(divisor = d))]
fn divide(n: u32, d: u32) -> Result<u32, String> {
    n.checked_div(d)
        .ok_or_else(|| "division by zero".to_owned())
}

/// A checked division failed.
#[track_event("behaviour.division_failed", on = "failure", props(divisor = d))]
fn divide_or_fail(n: u32, d: u32) -> Result<u32, String> {
    n.checked_div(d)
        .ok_or_else(|| "division by zero".to_owned())
}

/// A lookup found something.
#[track_event("behaviour.found", on = "success")]
fn find(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

/// A lookup found nothing.
#[track_event("behaviour.not_found", on = "failure")]
fn find_or_miss(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

/// A request was answered successfully.
#[track_event("behaviour.answered", on = "success", props(status = code))]
fn respond(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("a valid status")
}

/// A request failed.
#[track_event("behaviour.answer_failed", on = "failure", props(status = code))]
fn respond_or_fail(code: u16) -> (StatusCode, &'static str) {
    (StatusCode::from_u16(code).expect("a valid status"), "body")
}

#[test]
fn on_return_captures_after_the_body_whatever_it_returned() {
    let (value, events) = record_with(|| returned(21));
    assert_eq!(value, 42);
    assert_eq!(names(&events), ["behaviour.returned"]);
    assert_eq!(events[0].properties["count"], json!(21));
}

#[test]
fn on_call_captures_on_entry() {
    let events = record(|| called(5));
    assert_eq!(names(&events), ["behaviour.called"]);
    assert_eq!(events[0].prop("count"), Some(&json!(5)));
}

#[test]
fn on_call_captures_before_the_body_panics() {
    /// The body panics.
    #[track_event("behaviour.panicked", on = "call")]
    fn panics() {
        panic!("boom");
    }
    let events = record(|| std::panic::catch_unwind(panics).is_err());
    assert_eq!(names(&events), ["behaviour.panicked"]);
}

#[test]
fn on_success_and_failure_follow_result() {
    let events = record(|| {
        assert_eq!(divide(6, 3), Ok(2));
        assert!(divide(6, 0).is_err());
        assert!(divide_or_fail(6, 0).is_err());
        assert_eq!(divide_or_fail(6, 2), Ok(3));
    });
    assert_eq!(
        names(&events),
        ["behaviour.divided", "behaviour.division_failed"]
    );
    assert_eq!(events[0].properties["divisor"], json!(3));
    assert_eq!(events[1].properties["divisor"], json!(0));
}

#[test]
fn on_success_and_failure_follow_option() {
    let events = record(|| {
        find(1);
        find(0);
        find_or_miss(1);
        find_or_miss(0);
    });
    assert_eq!(names(&events), ["behaviour.found", "behaviour.not_found"]);
}

#[test]
fn on_success_and_failure_follow_http_status() {
    let events = record(|| {
        respond(200);
        respond(302);
        respond(404);
        respond_or_fail(201);
        respond_or_fail(500);
    });
    let statuses: Vec<_> = events
        .iter()
        .map(|e| (e.name, e.properties["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("behaviour.answered", json!(200)),
            ("behaviour.answered", json!(302)),
            ("behaviour.answer_failed", json!(500)),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// When properties are evaluated

/// A counter was bumped.
#[track_event("behaviour.bumped", props(before = n))]
fn bump(mut n: u32) -> u32 {
    n += 100;
    n
}

/// Items were appended.
#[track_event("behaviour.appended", props(count = items.len(), was_empty = items.is_empty()))]
fn append(items: &mut Vec<u8>) {
    items.extend([1, 2, 3]);
}

#[test]
fn props_are_evaluated_before_the_body() {
    let events = record(|| assert_eq!(bump(1), 101));
    assert_eq!(events[0].properties["before"], json!(1));

    let mut items = Vec::new();
    let events = record(|| append(&mut items));
    assert_eq!(items.len(), 3);
    assert_eq!(events[0].properties["count"], json!(0));
    assert_eq!(events[0].properties["was_empty"], json!(true));
}

// ---------------------------------------------------------------------------------------------
// Methods

struct Timer {
    running: bool,
    elapsed: u64,
}

impl Timer {
    /// A timer was started.
    #[track_event("behaviour.timer_started", on = "call", props(was_running = self.running))]
    fn start(&mut self) -> &mut Self {
        self.running = true;
        self
    }

    /// A timer was read.
    #[track_event("behaviour.timer_read", props(elapsed_seconds = self.elapsed))]
    fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// A timer's count was borrowed for writing.
    #[track_event("behaviour.timer_borrowed", props(running = self.running))]
    fn elapsed_mut(&mut self) -> &mut u64 {
        &mut self.elapsed
    }

    /// A timer was finished.
    #[track_event("behaviour.timer_finished", on = "success", props(elapsed_seconds = self.elapsed))]
    fn finish(self) -> Option<u64> {
        self.running.then_some(self.elapsed)
    }
}

trait Exporter {
    fn export(&self, format: ExportFormat) -> Result<usize, String>;
}

struct Spreadsheet;

impl Exporter for Spreadsheet {
    /// A spreadsheet was exported.
    #[track_event("behaviour.exported", on = "success", props(format = format))]
    fn export(&self, format: ExportFormat) -> Result<usize, String> {
        match format {
            ExportFormat::Pdf => Err("not a spreadsheet format".into()),
            _ => Ok(3),
        }
    }
}

#[test]
fn methods_with_every_receiver() {
    let mut timer = Timer {
        running: false,
        elapsed: 7,
    };
    let events = record(|| {
        timer.start();
        assert_eq!(timer.elapsed(), 7);
        *timer.elapsed_mut() += 1;
        assert_eq!(timer.finish(), Some(8));
    });
    assert_eq!(
        names(&events),
        [
            "behaviour.timer_started",
            "behaviour.timer_read",
            "behaviour.timer_borrowed",
            "behaviour.timer_finished"
        ]
    );
    assert_eq!(events[0].properties["was_running"], json!(false));
    assert_eq!(events[1].properties["elapsed_seconds"], json!(7));
    assert_eq!(events[2].properties["running"], json!(true));
    assert_eq!(events[3].properties["elapsed_seconds"], json!(8));
}

#[test]
fn trait_impl_methods_and_derived_enums() {
    let events = record(|| {
        Spreadsheet.export(ExportFormat::ExcelXlsx).unwrap();
        Spreadsheet.export(ExportFormat::Pdf).unwrap_err();
    });
    assert_eq!(names(&events), ["behaviour.exported"]);
    assert_eq!(events[0].properties["format"], json!("excel_xlsx"));
}

// ---------------------------------------------------------------------------------------------
// Generics and async

/// Items were cloned.
#[track_event("behaviour.cloned", props(count = items.len(), label = label))]
fn clone_all<T: Clone, L>(items: &[T], label: L) -> Vec<T>
where
    L: PropertyValue + Copy,
{
    items.to_vec()
}

struct Repo<Id>(Vec<Id>);

impl<Id: PropertyValue + Copy + PartialEq> Repo<Id> {
    /// A record was looked up by id.
    #[track_event("behaviour.repo_lookup", on = "success", props(id: _ = id, size = self.0.len()))]
    fn lookup(&self, id: Id) -> Option<Id> {
        self.0.iter().copied().find(|known| *known == id)
    }
}

#[test]
fn generic_functions() {
    let events = record(|| {
        assert_eq!(clone_all(&["a", "b"], true).len(), 2);
        assert_eq!(clone_all(&[1u8], ExportFormat::Csv), [1]);
    });
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].properties["label"], json!(true));
    assert_eq!(events[1].properties["label"], json!("csv"));
    assert_eq!(events[1].properties["count"], json!(1));

    let events = record(|| Repo(vec![4u16]).lookup(4));
    assert_eq!(events[0].properties["id"], json!(4));
    assert_eq!(
        prop_kinds(definition("behaviour.repo_lookup")),
        [("id", ValueKind::Unspecified), ("size", ValueKind::Integer)]
    );
}

fn parse_id(id: u64) -> Result<u64, String> {
    if id > 1000 {
        Err("too large".into())
    } else {
        Ok(id)
    }
}

/// A record was loaded.
#[track_event("behaviour.loaded", on = "success", props(id = id))]
async fn load(id: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    if id == 0 {
        return Err("no id".into());
    }
    let id = parse_id(id)?;
    tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(id * 10)
}

/// A record failed to load.
#[track_event("behaviour.load_failed", on = "failure", props(id = id))]
async fn load_or_fail(id: u64) -> Result<u64, String> {
    load(id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_functions_capture_after_awaiting() {
    let events = record_async(async {
        assert_eq!(load(4).await, Ok(40));
        assert!(load(0).await.is_err());
        assert!(load(5000).await.is_err());
        assert!(load_or_fail(5000).await.is_err());
        assert!(load_or_fail(1).await.is_ok());
    })
    .await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.name, e.properties["id"].clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("behaviour.loaded", json!(4)),
            ("behaviour.load_failed", json!(5000)),
            ("behaviour.loaded", json!(1)),
        ]
    );
}

#[tokio::test]
async fn async_futures_are_send() {
    fn assert_send<F: std::future::Future + Send>(future: F) -> F {
        future
    }
    let handle = tokio::spawn(assert_send(load_or_fail(2)));
    assert_eq!(handle.await.unwrap(), Ok(20));
}

// ---------------------------------------------------------------------------------------------
// Early returns and `?`

/// A number was parsed.
#[track_event("behaviour.parse_failed", on = "failure", props(length = input.len()))]
fn parse_number(input: &str) -> Result<u32, std::num::ParseIntError> {
    if input.is_empty() {
        return Ok(0);
    }
    let n: u32 = input.trim().parse()?;
    Ok(n)
}

/// A number was parsed, whatever the outcome.
#[track_event("behaviour.parse_attempted")]
fn parse_any(input: &str) -> Result<u32, std::num::ParseIntError> {
    if input == "zero" {
        return Ok(0);
    }
    Ok(input.parse::<u32>()? + 1)
}

#[test]
fn early_return_and_question_mark_come_back_through_the_capture() {
    let events = record(|| {
        assert_eq!(parse_number(""), Ok(0));
        assert!(parse_number("x1").is_err());
        assert_eq!(parse_number("12"), Ok(12));
    });
    assert_eq!(names(&events), ["behaviour.parse_failed"]);
    assert_eq!(events[0].properties["length"], json!(2));

    let events = record(|| {
        parse_any("zero").unwrap();
        parse_any("nope").unwrap_err();
        parse_any("4").unwrap();
    });
    assert_eq!(events.len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Hashing and subjects

/// A user signed in.
#[track_event("behaviour.signed_in", props(user = Hashed(user_id), remember = remember), distinct_id = user_id)]
fn sign_in(user_id: &str, remember: bool) {}

/// Something happened, to nobody in particular.
#[track_event("behaviour.anonymous", props(project_id = Hashed(project_id)))]
fn anonymous(project_id: u64) {}

#[test]
fn hashed_values_and_distinct_ids_are_salted_hashes() {
    let events = record(|| {
        sign_in("u-1842", true);
        anonymous(77);
    });
    assert_eq!(events[0].properties["user"], json!(sha256_hex(b"u-1842")));
    assert_eq!(events[0].properties["remember"], json!(true));
    assert_eq!(events[0].distinct_id, sha256_hex(b"u-1842"));
    assert_ne!(events[0].properties["user"], json!("u-1842"));
    assert_eq!(events[1].properties["project_id"], json!(sha256_hex(b"77")));
    // The install fingerprint: SHA-256 of the salt followed by the install id (the contract's
    // "Identity and privacy").
    assert_eq!(
        events[1].distinct_id,
        sha256_hex(testing::TEST_INSTALL_ID.as_bytes())
    );
}

// ---------------------------------------------------------------------------------------------
// Property value types

/// Every kind of property value.
#[track_event(
    "behaviour.valued",
    props(
        maybe = maybe,
        none = None::<u8>,
        took = took,
        format = format,
        label = "static",
        ratio: f64 = 0.5,
        small = rows as u8,
        rows,
    )
)]
fn valued(maybe: Option<u32>, took: Duration, format: ExportFormat, rows: u64) {}

#[test]
fn property_values_render_by_type() {
    let events = record(|| {
        valued(Some(3), Duration::from_millis(1500), ExportFormat::Pdf, 300);
        valued(None, Duration::ZERO, ExportFormat::Csv, 1);
    });
    let first = &events[0].properties;
    assert_eq!(first["maybe"], json!(3));
    assert_eq!(first["none"], json!(null));
    assert_eq!(first["took"], json!(1.5));
    assert_eq!(first["format"], json!("pdf_a"));
    assert_eq!(first["label"], json!("static"));
    assert_eq!(first["ratio"], json!(0.5));
    assert_eq!(first["small"], json!(44)); // 300 as u8
    assert_eq!(first["rows"], json!(300));
    assert_eq!(events[1].properties["maybe"], json!(null));
}

// ---------------------------------------------------------------------------------------------
// track!

fn export_inline(format: ExportFormat, rows: usize, user: &str) {
    if rows > 0 {
        track!(
            "behaviour.inline_exported",
            description = "An export ran inside a body.",
            props(format: ExportFormat = format, rows = rows as u64, big = rows > 100),
            distinct_id = user
        );
    }
    track!(
        "behaviour.inline_plain",
        description = "A bare inline capture."
    );
}

#[test]
fn track_captures_where_it_is_written() {
    let events = record(|| {
        export_inline(ExportFormat::Csv, 3, "u-1");
        export_inline(ExportFormat::Pdf, 0, "u-2");
    });
    assert_eq!(
        names(&events),
        [
            "behaviour.inline_exported",
            "behaviour.inline_plain",
            "behaviour.inline_plain"
        ]
    );
    assert_eq!(events[0].properties["format"], json!("csv"));
    assert_eq!(events[0].properties["rows"], json!(3));
    assert_eq!(events[0].properties["big"], json!(false));
    assert_eq!(events[0].distinct_id, sha256_hex(b"u-1"));
    assert!(events[1].properties.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The catalog

/// Never called, still documented.
///
/// The second paragraph is not part of the description.
#[track_event("behaviour.never_called", props(flag = true))]
fn never_called() {}

/// Overridden by the attribute.
#[track_event("behaviour.described", description = "  The attribute's text wins.  ")]
fn described() {}

#[test]
fn every_declaration_is_in_the_catalog_whether_or_not_it_ran() {
    let def = definition("behaviour.never_called");
    assert_eq!(def.description, "Never called, still documented.");
    assert_eq!(def.trigger, Trigger::Return);
    assert_eq!(prop_kinds(def), [("flag", ValueKind::Boolean)]);
    assert!(!def.has_distinct_id);
    assert_eq!(def.site.function, "never_called");
    assert_eq!(def.site.module_path, "macro_behaviour");
    assert!(
        def.site.file.ends_with("macro_behaviour.rs"),
        "{}",
        def.site.file
    );
    assert!(def.site.line > 0);

    assert_eq!(
        definition("behaviour.described").description,
        "The attribute's text wins."
    );
}

#[test]
fn the_catalog_records_triggers() {
    for (name, trigger) in [
        ("behaviour.returned", Trigger::Return),
        ("behaviour.called", Trigger::Call),
        ("behaviour.divided", Trigger::Success),
        ("behaviour.division_failed", Trigger::Failure),
        ("behaviour.inline_exported", Trigger::Inline),
    ] {
        assert_eq!(definition(name).trigger, trigger, "{name}");
    }
    let inline = definition("behaviour.inline_exported");
    assert_eq!(inline.site.function, "");
    assert_eq!(inline.description, "An export ran inside a body.");
    assert!(inline.has_distinct_id);
}

#[test]
fn the_catalog_records_property_kinds() {
    let def = definition("behaviour.valued");
    assert_eq!(
        prop_kinds(def),
        [
            ("maybe", ValueKind::Integer),
            ("none", ValueKind::Unspecified),
            ("took", ValueKind::Duration),
            ("format", ValueKind::Enum),
            ("label", ValueKind::Enum),
            ("ratio", ValueKind::Float),
            ("small", ValueKind::Integer),
            ("rows", ValueKind::Integer),
        ]
    );
    let types: Vec<_> = def.props.iter().map(|p| p.rust_type).collect();
    assert_eq!(
        types,
        [
            "Option<u32>",
            "",
            "Duration",
            "ExportFormat",
            "&'static str",
            "f64",
            "u8",
            "u64"
        ]
    );
    assert_eq!(def.props[3].variants, ["csv", "excel_xlsx", "pdf_a"]);

    let signed_in = definition("behaviour.signed_in");
    assert_eq!(
        prop_kinds(signed_in),
        [
            ("user", ValueKind::Hashed),
            ("remember", ValueKind::Boolean)
        ]
    );
    assert!(signed_in.has_distinct_id);
    assert!(signed_in.props[0].is_hashed());

    // Parameter types of a trait impl method are named; generic ones are not.
    assert_eq!(
        definition("behaviour.exported").props[0].kind,
        ValueKind::Enum
    );
    assert_eq!(
        prop_kinds(definition("behaviour.cloned")),
        [
            ("count", ValueKind::Integer),
            ("label", ValueKind::Unspecified)
        ]
    );
    assert_eq!(
        prop_kinds(definition("behaviour.appended")),
        [
            ("count", ValueKind::Integer),
            ("was_empty", ValueKind::Boolean)
        ]
    );
    let inline = definition("behaviour.inline_exported");
    assert_eq!(
        prop_kinds(inline),
        [
            ("format", ValueKind::Enum),
            ("rows", ValueKind::Integer),
            ("big", ValueKind::Boolean)
        ]
    );
}

#[test]
fn derived_enums_are_property_values() {
    assert_eq!(ExportFormat::KIND, ValueKind::Enum);
    assert_eq!(ExportFormat::VARIANTS, ["csv", "excel_xlsx", "pdf_a"]);
    assert!(matches!(
        ExportFormat::ExcelXlsx.to_prop_value(),
        telemetry_core::PropValue::Str(text) if text == "excel_xlsx"
    ));
    assert!(matches!(
        Some(ExportFormat::Csv).to_prop_value(),
        telemetry_core::PropValue::Str(text) if text == "csv"
    ));
}

// ---------------------------------------------------------------------------------------------
// Newtypes, flags, #[track_caller], unsafe fn

#[derive(Debug, Clone, Copy, PropertyValue)]
struct ProjectId(i64);

#[derive(Debug, Clone, Copy, PropertyValue)]
struct Ratio {
    value: f32,
}

#[derive(Debug, Clone, Copy, PropertyValue)]
struct Billable(bool);

/// A project was archived.
#[track_event(
    "behaviour.archived",
    props(project = id, ratio = ratio, billable = billable, is_bulk = bulk)
)]
fn archive(id: ProjectId, ratio: Ratio, billable: Billable, bulk: bool) {}

#[test]
fn numeric_newtypes_are_sent_as_their_inner_value() {
    assert_eq!(ProjectId::KIND, ValueKind::Integer);
    assert_eq!(Ratio::KIND, ValueKind::Float);
    assert_eq!(Billable::KIND, ValueKind::Boolean);
    assert!(ProjectId::VARIANTS.is_empty());
    let events = record(|| archive(ProjectId(-42), Ratio { value: 0.25 }, Billable(true), false));
    assert_eq!(events[0].properties["project"], json!(-42));
    assert_eq!(events[0].properties["ratio"], json!(0.25));
    assert_eq!(events[0].properties["billable"], json!(true));
    assert_eq!(events[0].properties["is_bulk"], json!(false));
    assert_eq!(
        prop_kinds(definition("behaviour.archived")),
        [
            ("project", ValueKind::Integer),
            ("ratio", ValueKind::Float),
            ("billable", ValueKind::Boolean),
            ("is_bulk", ValueKind::Boolean),
        ]
    );
}

/// A caller-located check ran.
#[track_event("behaviour.located", on = "call")]
#[track_caller]
fn located() -> &'static std::panic::Location<'static> {
    std::panic::Location::caller()
}

#[test]
fn track_caller_reports_the_callers_location_when_capturing_on_entry() {
    let mut location = None;
    let events = record(|| location = Some(located()));
    let expected_line = line!() - 1;
    let location = location.unwrap();
    assert_eq!(location.file(), file!());
    assert_eq!(location.line(), expected_line);
    assert_eq!(names(&events), ["behaviour.located"]);
}

/// Reads through a raw pointer.
///
/// # Safety
/// `ptr` must be valid for reads.
#[track_event("behaviour.read_raw", props(non_null = !ptr.is_null()))]
unsafe fn read_raw(ptr: *const u32) -> u32 {
    // SAFETY: the caller guarantees `ptr` is valid.
    unsafe { *ptr }
}

#[test]
fn unsafe_fns_keep_working() {
    let value = 7u32;
    // SAFETY: `value` lives for the call.
    let events = record(|| assert_eq!(unsafe { read_raw(&value) }, 7));
    assert_eq!(events[0].properties["non_null"], json!(true));
}
