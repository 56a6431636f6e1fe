//! What the install-state tests share: readers of the state file as it is on disk.

use std::fs;
use std::path::Path;

use serde_json::Value;

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}
