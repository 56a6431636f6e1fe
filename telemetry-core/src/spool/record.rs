//! The spool's file format: JSON lines, a header line first, then one wire event per line.
//!
//! The reader never fails: a line that does not parse (a torn last record after a crash,
//! garbage) is skipped and counted, and a file whose header is missing or names another
//! destination yields no events at all, so a spool is only ever sent where it was captured for.

use serde::{Deserialize, Serialize};

use crate::wire::WireEvent;

/// The format tag in the header line.
pub const FORMAT: &str = "telemetry-core/spool/v1";

/// The first line of every spool file: which format, and which destination it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub spool: String,
    /// The PostHog host the events were captured for (not a secret).
    pub host: String,
    /// Lowercase hex SHA-256 of `host + "\n" + project key`: the destination's binding. The
    /// key itself is never written.
    pub binding: String,
}

/// What [`parse`] found in a spool file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The header, if the first line is a valid one.
    pub header: Option<Header>,
    /// The events, oldest first (empty when the header is missing or does not match).
    pub events: Vec<WireEvent>,
    /// Lines skipped: unparsable, torn (no final newline), or all of them when the header is
    /// missing or bound elsewhere.
    pub skipped: usize,
}

/// Reads a spool file's bytes, keeping only events bound to `binding` (pass `None` to accept
/// any valid header, as the fuzz target does). Never panics, whatever the input.
///
/// ```
/// use telemetry_core::__private::internals::spool::{parse, FORMAT};
/// let text = format!(
///     "{{\"spool\":\"{FORMAT}\",\"host\":\"h\",\"binding\":\"b\"}}\n\
///      {{\"event\":\"a\",\"distinct_id\":\"d\",\"uuid\":\"u\",\"timestamp\":\"t\",\"properties\":{{}}}}\n\
///      not json\n\
///      {{\"event\":\"torn"
/// );
/// let parsed = parse(text.as_bytes(), Some("b"));
/// assert_eq!(parsed.events.len(), 1);
/// assert_eq!(parsed.skipped, 2);
/// assert!(parse(text.as_bytes(), Some("other")).events.is_empty());
/// ```
pub fn parse(bytes: &[u8], binding: Option<&str>) -> Parsed {
    let mut parsed = Parsed::default();
    // Only complete lines count: whatever follows the last newline is a torn write.
    let (complete, torn) = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => (&bytes[..end], !bytes[end + 1..].is_empty()),
        None => (&bytes[..0], !bytes.is_empty()),
    };
    parsed.skipped += usize::from(torn);
    if complete.is_empty() {
        return parsed;
    }
    let mut lines = complete.split(|&b| b == b'\n');
    let header = lines
        .next()
        .and_then(|line| serde_json::from_slice::<Header>(line).ok())
        .filter(|h| h.spool == FORMAT);
    let trusted = header
        .as_ref()
        .is_some_and(|h| binding.is_none_or(|b| h.binding == b));
    parsed.header = header;
    for line in lines {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<WireEvent>(line) {
            Ok(event) if trusted => parsed.events.push(event),
            _ => parsed.skipped += 1,
        }
    }
    parsed
}

/// One event as a spool line (with its newline).
pub(crate) fn line(event: &WireEvent) -> Vec<u8> {
    let mut out = serde_json::to_vec(event).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The header as a spool line (with its newline).
pub(crate) fn header_line(header: &Header) -> Vec<u8> {
    let mut out = serde_json::to_vec(header).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        header_line(&Header {
            spool: FORMAT.into(),
            host: "http://h".into(),
            binding: "b".into(),
        })
    }

    fn event(n: u32) -> WireEvent {
        WireEvent {
            event: format!("e{n}"),
            distinct_id: "d".into(),
            uuid: format!("u{n}"),
            timestamp: "2026-01-01T00:00:00Z".into(),
            properties: serde_json::Map::new(),
        }
    }

    #[test]
    fn hostile_inputs_never_panic_and_yield_nothing_untrusted() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"\n".to_vec(),
            b"\n\n\n".to_vec(),
            vec![0xff, 0xfe, b'\n', 0x00],
            b"{\"spool\":1}\n{}\n".to_vec(),
            [&b"\xef\xbb\xbf"[..], &header()].concat(),
            b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n".to_vec(),
            "{\"spool\":\"telemetry-core/spool/v1\",\"host\":\"\u{0}\",\"binding\":\"b\"}\n{\"event\":1}\n"
                .as_bytes()
                .to_vec(),
        ];
        for input in inputs {
            let parsed = parse(&input, Some("b"));
            assert!(parsed.events.is_empty(), "{input:?}: {parsed:?}");
        }
    }

    #[test]
    fn torn_and_garbage_lines_are_skipped_and_the_rest_kept_in_order() {
        let mut bytes = header();
        bytes.extend(line(&event(1)));
        bytes.extend(b"garbage \x00\xff\n");
        bytes.extend(line(&event(2)));
        let torn = line(&event(3));
        bytes.extend(&torn[..torn.len() / 2]);
        let parsed = parse(&bytes, Some("b"));
        let names: Vec<_> = parsed.events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["e1", "e2"]);
        assert_eq!(parsed.skipped, 2);
    }

    #[test]
    fn a_spool_bound_elsewhere_yields_nothing() {
        let mut bytes = header();
        bytes.extend(line(&event(1)));
        let parsed = parse(&bytes, Some("another project"));
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.skipped, 1);
        assert_eq!(parse(&bytes, None).events, vec![event(1)]);
    }
}
