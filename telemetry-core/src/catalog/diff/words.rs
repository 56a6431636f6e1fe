//! The diff in plain words: the sentences of the Markdown changelog.

use super::*;

pub(super) fn summary(added: usize, removed: usize, changed: usize, automatic: bool) -> String {
    let count = |n: usize, what: &str| format!("{n} event{} {what}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if added > 0 {
        parts.push(count(added, "added"));
    }
    if removed > 0 {
        parts.push(count(removed, "removed"));
    }
    if changed > 0 {
        parts.push(count(changed, "changed"));
    }
    if automatic {
        parts.push("the properties on every event changed".to_owned());
    }
    parts.join(", ")
}

pub(super) fn with_properties(props: &[Property]) -> String {
    if props.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
        format!(" (it carried {})", facts::code_list(&names))
    }
}

fn linked_to(hashed_distinct_id: bool) -> &'static str {
    if hashed_distinct_id {
        "the user or record it is about, by a salted hash of its id"
    } else {
        "the anonymous fingerprint of this installation"
    }
}

pub(super) fn added_event(out: &mut String, event: &Event, lifecycle: bool) {
    let _ = write!(
        out,
        "- `{}`{}: {}",
        event.name,
        if lifecycle { " (lifecycle event)" } else { "" },
        sentence(&event.description)
    );
    let _ = write!(
        out,
        " Sent {}; linked to {}.",
        event.when,
        linked_to(event.hashed_distinct_id)
    );
    if event.properties.is_empty() {
        out.push_str(" No properties besides the ones on every event.\n");
        return;
    }
    out.push_str(" Properties:\n");
    for p in &event.properties {
        let _ = writeln!(out, "  - `{}`: {}", p.name, describe_property(p));
    }
}

fn sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        "(no description).".to_owned()
    } else if text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

fn describe_property(p: &Property) -> String {
    let mut text = format!(
        "{}, {}",
        kind_words(p),
        classification_words(&p.classification)
    );
    if p.nullable {
        let _ = write!(text, ", {}", facts::MAY_BE_NULL);
    }
    text
}

fn kind_words(p: &Property) -> String {
    facts::kind_words(&p.kind, &p.variants)
}

/// The Markdown document's label for a classification name from a JSON document.
fn classification_words(name: &str) -> String {
    markdown::CLASSIFICATIONS
        .iter()
        .find(|c| c.as_str() == name)
        .map_or_else(
            || name.to_owned(),
            |c| markdown::classification_label(*c).to_owned(),
        )
}

fn quoted(text: &str) -> String {
    format!(
        "\"{}\"",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

pub(super) fn event_changes(old: &Event, new: &Event) -> Vec<String> {
    let mut lines = Vec::new();
    if old.description.trim() != new.description.trim() {
        lines.push(format!(
            "description: was {}, now {}",
            quoted(&old.description),
            quoted(&new.description)
        ));
    }
    if old.when != new.when {
        lines.push(format!("sent: was {}, now {}", old.when, new.when));
    }
    if old.hashed_distinct_id != new.hashed_distinct_id {
        lines.push(format!(
            "now linked to {} (was linked to {})",
            linked_to(new.hashed_distinct_id),
            linked_to(old.hashed_distinct_id)
        ));
    }
    let before: BTreeMap<&str, &Property> = old
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    for p in &new.properties {
        match before.get(p.name.as_str()) {
            None => lines.push(format!(
                "new property `{}`: {}",
                p.name,
                describe_property(p)
            )),
            Some(was) => property_changes(&mut lines, was, p),
        }
    }
    for p in &old.properties {
        if !new.properties.iter().any(|q| q.name == p.name) {
            lines.push(format!("property `{}` removed: no longer sent", p.name));
        }
    }
    lines
}

fn property_changes(lines: &mut Vec<String>, old: &Property, new: &Property) {
    let name = &new.name;
    if old.hashed != new.hashed {
        lines.push(if new.hashed {
            format!("property `{name}`: now sent only as a salted hash (it was sent as it is)")
        } else {
            format!(
                "property `{name}`: now sent as it is, as {} (it was sent only as a salted hash)",
                kind_words(new)
            )
        });
    } else if old.kind != new.kind {
        lines.push(format!(
            "property `{name}`: type was {}, now {}",
            kind_words(old),
            kind_words(new)
        ));
    } else if old.variants != new.variants {
        let added: Vec<&str> = new
            .variants
            .iter()
            .filter(|v| !old.variants.contains(v))
            .map(String::as_str)
            .collect();
        let removed: Vec<&str> = old
            .variants
            .iter()
            .filter(|v| !new.variants.contains(v))
            .map(String::as_str)
            .collect();
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("can now also be {}", facts::code_list(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("can no longer be {}", facts::code_list(&removed)));
        }
        if parts.is_empty() {
            parts.push(format!("values reordered, now {}", kind_words(new)));
        }
        lines.push(format!("property `{name}`: {}", parts.join("; ")));
    }
    if old.classification != new.classification {
        lines.push(format!(
            "property `{name}`: kind of data was {}, now {}",
            classification_words(&old.classification),
            classification_words(&new.classification)
        ));
    }
    if old.nullable != new.nullable {
        lines.push(if new.nullable {
            format!("property `{name}`: may now be null")
        } else {
            format!("property `{name}`: is no longer null")
        });
    }
    let (was, now) = (
        old.description.as_deref().unwrap_or("").trim(),
        new.description.as_deref().unwrap_or("").trim(),
    );
    if was != now {
        lines.push(format!(
            "property `{name}`: meaning was {}, now {}",
            quoted(was),
            quoted(now)
        ));
    }
}

pub(super) fn automatic_changes(old: &[Automatic], new: &[Automatic]) -> Vec<String> {
    let mut lines = Vec::new();
    for p in new {
        match old.iter().find(|q| q.name == p.name) {
            None => lines.push(format!("`{}` added: {}", p.name, sentence(&p.description))),
            Some(was) if was.description.trim() != p.description.trim() => lines.push(format!(
                "`{}`: meaning was {}, now {}",
                p.name,
                quoted(&was.description),
                quoted(&p.description)
            )),
            Some(_) => {}
        }
    }
    for p in old {
        if !new.iter().any(|q| q.name == p.name) {
            lines.push(format!("`{}` removed: no longer sent", p.name));
        }
    }
    lines
}
