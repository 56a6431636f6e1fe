//! The document check's free functions as a package's `cargo test` uses them: the catalog of the
//! package under test, paths relative to the package, the refresh command naming the package,
//! bless through the environment. The comparison itself (stale, missing, lint errors, bless
//! writing) is unit tested with `check` in `src/catalog/check.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use telemetry_core::catalog::{
    AppInfo, BLESS_ENV, DocumentMismatch, Format, assert_document_current, check_document,
};
use telemetry_core::{EventDef, PropDef, Trigger, ValueKind};

mod common {
    pub mod catalog;
}
use common::catalog::{declaration, register, site};

static TASK_CREATED: EventDef = declaration(
    "task.created",
    "A task was added to a project.",
    Trigger::Success,
    &[PropDef::new("project_id", "u64", ValueKind::Integer, &[])],
    site!("create_task", 10),
);

register!(TASK_CREATED);

/// An empty directory of its own for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("catalog_check-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Under `TELEMETRY_CATALOG_BLESS=1` the free functions rewrite instead of comparing, so the
/// tests of the comparison have nothing to test.
fn blessing() -> bool {
    let set = std::env::var_os(BLESS_ENV).is_some();
    if set {
        eprintln!("{BLESS_ENV} is set: comparison not tested");
    }
    set
}

/// What the free functions render: this binary's catalog, for the package under test.
fn expected(format: Format) -> String {
    telemetry_core::catalog()
        .with_app_info(AppInfo::from_cargo_env())
        .render(format)
}

#[test]
fn a_current_document_passes() {
    let dir = scratch("current");
    for format in Format::ALL {
        let path = dir.join(format!("TRACKED_EVENTS.{format}"));
        std::fs::write(&path, expected(format)).unwrap();
        check_document(&path, format).unwrap();
        assert_document_current(&path, format);
    }
    // In `cargo test`, the document describes the package under test (that a version bump
    // leaves it current is tested end to end in `tests/tests/catalog_cli.rs`).
    let json: serde_json::Value = serde_json::from_str(&expected(Format::Json)).unwrap();
    assert_eq!(json["app"]["name"], "telemetry-core");
}

#[test]
fn a_stale_document_fails_with_a_diff_and_the_refresh_command() {
    if blessing() {
        return;
    }
    let dir = scratch("stale");
    let path = dir.join("TRACKED_EVENTS.md");
    let stale =
        expected(Format::Markdown).replace("A task was added to a project.", "A task was created.");
    std::fs::write(&path, &stale).unwrap();
    // The diff itself is tested with `check` in `src/catalog/check.rs`; here, what the free
    // functions add: the command names the package under test, and the panic carries the diff.
    let err = check_document(&path, Format::Markdown).unwrap_err();
    assert!(matches!(err, DocumentMismatch::Stale { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("TELEMETRY_CATALOG_BLESS=1 cargo test -p telemetry-core"),
        "{message}"
    );
    // The file is left alone.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), stale);

    let panic =
        std::panic::catch_unwind(|| assert_document_current(&path, Format::Markdown)).unwrap_err();
    let panic = panic.downcast_ref::<String>().unwrap();
    assert!(panic.contains("+A task was added to a project."), "{panic}");
}

#[cfg(unix)]
#[test]
fn relative_paths_are_relative_to_the_package() {
    if blessing() {
        return;
    }
    // `cargo test` sets CARGO_MANIFEST_DIR for the test process: a relative path is resolved
    // against it, whatever the working directory.
    let dir = scratch("relative");
    let up = Path::new(env!("CARGO_MANIFEST_DIR")).components().count() - 1;
    let relative: PathBuf = std::iter::repeat_n(Path::new(".."), up)
        .collect::<PathBuf>()
        .join(dir.strip_prefix("/").unwrap())
        .join("TRACKED_EVENTS.md");
    assert!(relative.is_relative());
    std::fs::write(dir.join("TRACKED_EVENTS.md"), expected(Format::Markdown)).unwrap();
    check_document(&relative, Format::Markdown).unwrap();
    std::fs::remove_file(dir.join("TRACKED_EVENTS.md")).unwrap();
    assert!(matches!(
        check_document(&relative, Format::Markdown),
        Err(DocumentMismatch::Missing { path, .. }) if path.starts_with(env!("CARGO_MANIFEST_DIR"))
    ));
}

/// Run by `bless_through_the_environment_rewrites_the_document` in a child process.
#[test]
#[ignore = "run as a child process with TELEMETRY_CATALOG_BLESS=1"]
fn bless_child() {
    let Some(path) = std::env::var_os("CATALOG_CHECK_BLESS_TARGET") else {
        return;
    };
    assert_document_current(&path, Format::Json);
    assert_document_current(Path::new(&path).with_extension("md"), Format::Markdown);
}

/// Runs `bless_child` in a new process of this test binary with `TELEMETRY_CATALOG_BLESS` set.
fn bless_in_child(bless: &str, target: &Path) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["bless_child", "--exact", "--ignored"])
        .env(BLESS_ENV, bless)
        .env("CATALOG_CHECK_BLESS_TARGET", target)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
}

#[test]
fn bless_through_the_environment_rewrites_the_document() {
    let dir = scratch("bless");
    let path = dir.join("docs").join("TRACKED_EVENTS.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"stale\": true}\n").unwrap();
    let md = path.with_extension("md");
    bless_in_child("1", &path);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        expected(Format::Json)
    );
    assert_eq!(
        std::fs::read_to_string(&md).unwrap(),
        expected(Format::Markdown)
    );
    check_document(&path, Format::Json).unwrap();
    check_document(&md, Format::Markdown).unwrap();
}
