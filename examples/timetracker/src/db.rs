//! The SQLite database: one file under the app's data dir (or in memory for tests).
//!
//! One connection behind a mutex; every query runs on tokio's blocking pool through
//! [`Db::call`], so a slow disk never stalls the async workers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppError;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A private in-memory database (tests).
    Memory,
    /// A file, created with its parent directory when missing.
    File(PathBuf),
}

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);
CREATE TABLE clients (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT,
    default_rate REAL,
    archived     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    client_id   INTEGER REFERENCES clients(id),
    billable    INTEGER NOT NULL DEFAULT 0,
    hourly_rate REAL,
    description TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    status      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX tasks_project ON tasks(project_id);
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    target_type TEXT NOT NULL CHECK (target_type IN ('project', 'task')),
    target_id   INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX comments_target ON comments(target_type, target_id);
CREATE TABLE time_entries (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users(id),
    project_id       INTEGER NOT NULL REFERENCES projects(id),
    task_id          INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
    notes            TEXT,
    start_time       TEXT NOT NULL,
    end_time         TEXT,
    duration_seconds INTEGER
);
CREATE INDEX time_entries_user_start ON time_entries(user_id, start_time);
CREATE UNIQUE INDEX one_running_timer_per_user ON time_entries(user_id) WHERE end_time IS NULL;
"#,
    r#"
ALTER TABLE projects ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
"#,
];

/// A shared handle to the database.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(location: &Database) -> Result<Db, AppError> {
        let mut conn = match location {
            Database::Memory => Connection::open_in_memory()?,
            Database::File(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    create_private_dir(parent).map_err(|e| {
                        AppError::Internal(format!("creating {}: {e}", parent.display()))
                    })?;
                }
                owner_only(path).map_err(|e| {
                    AppError::Internal(format!("protecting {}: {e}", path.display()))
                })?;
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn
            }
        };
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, AppError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic in another query must not take the database down with it.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await?
    }

    /// Runs `f` with the connection on the current thread (startup only).
    pub fn call_blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

/// Creates `dir` (and missing parents) readable by the owner only; an existing directory keeps
/// its permissions (it may be shared on purpose).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file owner-only (0600) before SQLite opens it, and tightens an existing
/// one and its `-wal`/`-shm` companions. SQLite creates those companions with the database
/// file's permissions, so they are owner-only too. The data is personal: names, notes, hashes.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = PathBuf::from(file);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), AppError> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Reads a row of the `settings` table.
pub fn get_setting(conn: &Connection, key: &str) -> Result<Option<String>, AppError> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Writes a row of the `settings` table.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The current time as stored: RFC 3339, UTC, whole seconds (sorts as text).
pub fn now() -> String {
    format_time(chrono::Utc::now())
}

/// Formats a time as stored.
pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses a stored time.
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| AppError::Internal(format!("stored time `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_keeps_settings() {
        let dir = std::env::temp_dir().join(format!("tt-db-test-{}", std::process::id()));
        let path = dir.join("nested").join("tt.sqlite3");
        let db = Db::open(&Database::File(path.clone())).unwrap();
        db.call_blocking(|c| set_setting(c, "k", "v")).unwrap();
        drop(db);
        let db = Db::open(&Database::File(path)).unwrap();
        let value = db.call_blocking(|c| get_setting(c, "k")).unwrap();
        assert_eq!(value.as_deref(), Some("v"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn database_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tt-db-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("data").join("tt.sqlite3");
        let db = Db::open(&Database::File(path.clone())).unwrap();
        db.call_blocking(|c| set_setting(c, "k", "v")).unwrap();
        let mode = |suffix: &str| {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            std::fs::metadata(PathBuf::from(file))
                .unwrap_or_else(|e| panic!("{suffix}: {e}"))
                .permissions()
                .mode()
                & 0o777
        };
        // The WAL and shared-memory files exist while the connection is open.
        assert_eq!(mode(""), 0o600);
        assert_eq!(mode("-wal"), 0o600);
        assert_eq!(mode("-shm"), 0o600);
        let dir_mode = std::fs::metadata(dir.join("data"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        drop(db);

        // A database left world-readable by an older version is tightened on the next open.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let db = Db::open(&Database::File(path.clone())).unwrap();
        assert_eq!(mode(""), 0o600);
        drop(db);
        let _ = std::fs::remove_dir_all(dir);
    }
}
