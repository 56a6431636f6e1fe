//! Spool file operations: append, claim a batch for sending, and settle it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Spool;
use super::lock::{lock, still_linked, try_lock};
use super::record::{header_line, line, parse};
use crate::wire::WireEvent;

/// What [`Spool::append`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    /// Events of the call now in the spool.
    pub written: usize,
    /// Events dropped to keep the size bound (the oldest: already spooled ones first).
    pub overflowed: usize,
}

/// A batch taken from the spool for sending. Nobody else can take it while this is alive
/// (its in-flight file is locked); [`finish`](Claim::finish) settles it. Dropped unfinished
/// (or the process dies), the in-flight file stays and the next claim sends it again.
#[derive(Debug)]
pub struct Claim {
    file: Option<File>,
    path: PathBuf,
    /// The events, oldest first, as they were rendered when first captured.
    pub events: Vec<WireEvent>,
    /// Events found too old while claiming, removed unsent.
    pub expired: usize,
}

impl Claim {
    /// Settles the claim: `delivered` removes its events for good; otherwise they stay
    /// spooled for the next attempt (by this process or another).
    pub fn finish(mut self, delivered: bool) {
        if delivered {
            // Unlinked while still locked: a process that opened it meanwhile sees it gone.
            let _ = fs::remove_file(&self.path);
        }
        drop(self.file.take());
    }
}

impl Spool {
    /// Adds `events` at the end of the spool, dropping the oldest to stay within
    /// [`max_bytes`](super::SpoolLimits::max_bytes).
    pub fn append(&self, events: &[WireEvent]) -> io::Result<Appended> {
        if events.is_empty() {
            return Ok(Appended::default());
        }
        let _lock = lock(&self.lock_path())?;
        let new: Vec<Vec<u8>> = events.iter().map(line).collect();
        let new_bytes: u64 = new.iter().map(|l| l.len() as u64).sum();
        let header = header_line(&self.header);
        let main = self.path();
        let main_len = fs::metadata(&main).map_or(0, |m| m.len());
        let (in_flight, mut overflowed) = self.trim_in_flight(main_len + new_bytes)?;
        let budget = self
            .limits
            .max_bytes
            .saturating_sub(in_flight + header.len() as u64);
        let existing = read_or_empty(&main)?;
        let parsed = parse(&existing, Some(&self.header.binding));
        let clean_tail = existing.last() == Some(&b'\n');
        let existing_bytes = (existing.len() as u64).saturating_sub(header.len() as u64);
        if clean_tail
            && parsed
                .header
                .as_ref()
                .is_some_and(|h| h.binding == self.header.binding)
            && parsed.skipped == 0
            && existing_bytes + new_bytes <= budget
        {
            let mut file = crate::state::private_file_options()
                .append(true)
                .open(&main)?;
            file.write_all(&new.concat())?;
            file.sync_data()?;
            return Ok(Appended {
                written: new.len(),
                overflowed,
            });
        }
        // Rebuild: drops skipped lines (a torn tail, garbage) and the oldest events (by capture
        // time: the pipeline may deliver, and so spool, a later batch first) over the bound.
        let mut all: Vec<(&WireEvent, bool)> = parsed.events.iter().map(|e| (e, false)).collect();
        all.extend(events.iter().map(|e| (e, true)));
        // Timestamps are RFC 3339 in UTC with a fixed precision: text order is time order.
        all.sort_by(|a, b| a.0.timestamp.cmp(&b.0.timestamp));
        let lines: Vec<Vec<u8>> = all.iter().map(|(e, _)| line(e)).collect();
        let mut total: u64 = lines.iter().map(|l| l.len() as u64).sum();
        let mut drop_front = 0;
        while total > budget && drop_front < lines.len() {
            total -= lines[drop_front].len() as u64;
            drop_front += 1;
        }
        let written = all[drop_front..].iter().filter(|(_, new)| *new).count();
        write_atomic(&self.dir, &main, &header, &lines[drop_front..])?;
        overflowed += drop_front;
        Ok(Appended {
            written,
            overflowed,
        })
    }

    /// Makes room for `more` bytes by deleting the oldest batches left in flight (by a failed
    /// attempt, or a process that died), which are older than anything in the spool file.
    /// Returns the bytes still in flight and the events deleted. The caller holds the lock.
    fn trim_in_flight(&self, more: u64) -> io::Result<(u64, usize)> {
        let files: Vec<(PathBuf, u64)> = self
            .in_flight_files()
            .into_iter()
            .filter_map(|p| fs::metadata(&p).ok().map(|m| (p, m.len())))
            .collect();
        let mut total: u64 = files.iter().map(|(_, len)| len).sum();
        let mut deleted = 0;
        for (path, len) in files {
            if total + more <= self.limits.max_bytes {
                break;
            }
            let Ok(mut file) = crate::state::private_file_options().read(true).open(&path) else {
                continue;
            };
            if !try_lock(&file)? || !still_linked(&file) {
                continue; // being sent right now
            }
            let bytes = read_file(&mut file)?;
            deleted += parse(&bytes, Some(&self.header.binding)).events.len();
            fs::remove_file(&path)?;
            total -= len;
        }
        Ok((total, deleted))
    }

    /// Takes the oldest batch (at most `max` events) for sending: a batch another process
    /// left in flight first, else the head of the spool. Expired events are removed on the
    /// way and reported in [`Claim::expired`]. `None` when nothing is waiting.
    pub fn claim(&self, max: usize) -> io::Result<Option<Claim>> {
        if self.files().is_empty() {
            return Ok(None); // the common case: no lock file is created for nothing
        }
        let _lock = lock(&self.lock_path())?;
        let mut expired = 0;
        for path in self.in_flight_files() {
            let Ok(mut file) = crate::state::private_file_options()
                .read(true)
                .write(true)
                .open(&path)
            else {
                continue;
            };
            if !try_lock(&file)? || !still_linked(&file) {
                continue; // being sent by another process, or already gone
            }
            let bytes = read_file(&mut file)?;
            let mut events = parse(&bytes, Some(&self.header.binding)).events;
            let before = events.len();
            events.retain(|e| !self.is_expired(e));
            expired += before - events.len();
            if events.is_empty() {
                let _ = fs::remove_file(&path);
                continue;
            }
            if events.len() != before {
                rewrite_in_place(&mut file, &header_line(&self.header), &events)?;
            }
            return Ok(Some(Claim {
                file: Some(file),
                path,
                events,
                expired,
            }));
        }
        let main = self.path();
        let existing = read_or_empty(&main)?;
        let mut events = parse(&existing, Some(&self.header.binding)).events;
        let before = events.len();
        events.retain(|e| !self.is_expired(e));
        expired += before - events.len();
        if events.is_empty() {
            if !existing.is_empty() {
                let _ = fs::remove_file(&main);
            }
            return Ok((expired > 0).then(|| Claim {
                file: None,
                path: PathBuf::new(),
                events: Vec::new(),
                expired,
            }));
        }
        let rest = events.split_off(max.max(1).min(events.len()));
        let claim = self.new_in_flight(events, expired)?;
        let header = header_line(&self.header);
        if rest.is_empty() {
            let _ = fs::remove_file(&main);
        } else {
            let lines: Vec<Vec<u8>> = rest.iter().map(line).collect();
            write_atomic(&self.dir, &main, &header, &lines)?;
        }
        Ok(Some(claim))
    }

    /// Creates and locks an in-flight file holding `events`; the caller holds the spool lock.
    fn new_in_flight(&self, events: Vec<WireEvent>, expired: usize) -> io::Result<Claim> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = self.dir.join(format!(
            "{}.inflight-{nanos:024}-{}-{}.jsonl",
            self.stem,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = crate::state::private_file_options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // New and created under the spool lock: nobody else can hold it yet.
        try_lock(&file)?;
        let mut bytes = header_line(&self.header);
        for event in &events {
            bytes.extend(line(event));
        }
        if let Err(e) = file.write_all(&bytes).and_then(|()| file.sync_data()) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        Ok(Claim {
            file: Some(file),
            path,
            events,
            expired,
        })
    }

    fn is_expired(&self, event: &WireEvent) -> bool {
        let Ok(at) = chrono::DateTime::parse_from_rfc3339(&event.timestamp) else {
            return false;
        };
        let age = chrono::Utc::now().signed_duration_since(at);
        age.to_std().is_ok_and(|age| age > self.limits.max_age)
    }
}

fn read_or_empty(path: &Path) -> io::Result<Vec<u8>> {
    match crate::state::private_file_options().read(true).open(path) {
        Ok(mut file) => read_file(&mut file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn read_file(file: &mut File) -> io::Result<Vec<u8>> {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    file.seek(io::SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn rewrite_in_place(file: &mut File, header: &[u8], events: &[WireEvent]) -> io::Result<()> {
    use std::io::Seek;
    let mut bytes = header.to_vec();
    for event in events {
        bytes.extend(line(event));
    }
    file.set_len(0)?;
    file.seek(io::SeekFrom::Start(0))?;
    file.write_all(&bytes)?;
    file.sync_data()
}

/// Replaces `path` with `header` and `lines` (temporary file, then rename).
fn write_atomic(dir: &Path, path: &Path, header: &[u8], lines: &[Vec<u8>]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".spool.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = crate::state::private_file_options()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let mut bytes = header.to_vec();
    for l in lines {
        bytes.extend_from_slice(l);
    }
    let written = file
        .write_all(&bytes)
        .and_then(|()| file.sync_data())
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}
