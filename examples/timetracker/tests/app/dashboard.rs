//! The committed Grafana dashboard queries only metrics the app really exports, so it cannot
//! drift from `/metrics` unnoticed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::TestApp;

const DASHBOARD: &str = include_str!("../../observability/grafana-dashboard.json");
const PROMETHEUS: &str = include_str!("../../observability/prometheus.yml");

/// Every PromQL string in the dashboard: panel targets' `expr` and query variables' `query`.
fn queries(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", Value::String(q)) => out.push(q.clone()),
                    // Grafana's `label_values(METRIC, LABEL)`: the first argument is PromQL.
                    ("query", Value::String(q)) if q.starts_with("label_values(") => {
                        let inner = q.trim_start_matches("label_values(");
                        out.push(inner.split(',').next().unwrap_or(inner).to_owned());
                    }
                    _ => queries(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| queries(v, out)),
        _ => {}
    }
}

const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
const KEYWORDS: &[&str] = &["bool", "and", "or", "unless", "offset", "atan2"];

/// A PromQL expression as identifiers and single punctuation characters; strings, numbers,
/// Grafana `$variables` and the insides of `{...}` matchers and `[...]` ranges are dropped.
fn tokens(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        let skip_to = match c {
            '"' => Some('"'),
            '{' => Some('}'),
            '[' => Some(']'),
            _ => None,
        };
        if let Some(close) = skip_to {
            for c in chars.by_ref() {
                if c == close {
                    break;
                }
            }
            out.push(c.to_string());
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == '$' || c.is_ascii_digit() {
            let mut word = c.to_string();
            while let Some(c) =
                chars.next_if(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.'))
            {
                word.push(c);
            }
            if !(word.starts_with('$') || word.starts_with(|c: char| c.is_ascii_digit())) {
                out.push(word);
            }
        } else if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    out
}

/// The metric names a PromQL expression selects: identifiers that are not functions or
/// aggregations (followed by `(` or a grouping clause), keywords, or label names in a
/// `by (...)`-style list.
fn metric_names(query: &str) -> BTreeSet<String> {
    let tokens = tokens(query);
    let mut names = BTreeSet::new();
    let mut in_label_list = false;
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(String::as_str);
        let is_word = token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        if in_label_list {
            in_label_list = token != ")";
            continue;
        }
        if GROUPING.contains(&token.as_str()) {
            in_label_list = next == Some("(");
            continue;
        }
        let is_call = next == Some("(") || next.is_some_and(|n| GROUPING.contains(&n));
        if is_word && !is_call && !KEYWORDS.contains(&token.as_str()) {
            names.insert(token.clone());
        }
    }
    names
}

/// The sample names a `/metrics` scrape exposes (`tt_requests_total`, `..._bucket`, ...).
fn exported(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_metric_name_scanner_finds_selectors_only() {
    let q = r#"histogram_quantile(0.95, sum by (le, endpoint) (rate(tt_request_latency_seconds_bucket{job="$job",x=~"a b"}[$__rate_interval]))) / sum without (method) (up)"#;
    assert_eq!(
        metric_names(q).into_iter().collect::<Vec<_>>(),
        vec!["tt_request_latency_seconds_bucket", "up"]
    );
    let mut found = Vec::new();
    queries(
        &serde_json::json!({ "query": "label_values(tt_requests_total, job)" }),
        &mut found,
    );
    assert_eq!(found, vec!["tt_requests_total"]);
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_exported() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    assert_eq!(dashboard["uid"], "timetracker");
    let mut all = Vec::new();
    queries(&dashboard, &mut all);
    assert!(all.len() >= 10, "{all:#?}");

    // A scrape after some traffic, so every family has samples (the histogram's buckets too).
    let mut app = TestApp::ready().await;
    app.project().await;
    let metrics = app.get("/metrics").await.text();
    let exported = exported(&metrics);
    assert!(exported.contains("tt_requests_total"), "{exported:?}");

    let mut used = BTreeSet::new();
    for query in &all {
        let names = metric_names(query);
        assert!(!names.is_empty(), "no metric in {query}");
        for name in names {
            assert!(
                exported.contains(&name),
                "the dashboard queries `{name}`, which /metrics does not export:\n{query}\n\nexported: {exported:?}"
            );
            used.insert(name);
        }
    }
    // And it shows the whole pipeline: every telemetry family /metrics exports (the spool's
    // too) is on some panel, so a new counter without a panel fails here.
    let telemetry: Vec<_> = exported
        .iter()
        .filter(|name| name.starts_with("tt_telemetry_"))
        .collect();
    assert!(telemetry.len() >= 10, "{telemetry:?}");
    for family in telemetry {
        assert!(used.contains(family), "{family} is on no panel");
    }
    // The scrape example points at the path the app serves and the job the dashboard expects.
    assert!(PROMETHEUS.contains("metrics_path: /metrics"));
    assert!(PROMETHEUS.contains("job_name: timetracker"));
}
