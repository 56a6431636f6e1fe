//! Django REST framework's shapes as PostHog answers them: error bodies (drf-exceptions-hog)
//! and `LimitOffsetPagination` pages.

use serde_json::{Value, json};

use super::http::encode;

/// drf-exceptions-hog's error body.
pub(super) fn error(
    status: u16,
    kind: &str,
    code: &str,
    detail: &str,
    attr: Option<&str>,
) -> (u16, Value) {
    (
        status,
        json!({ "type": kind, "code": code, "detail": detail, "attr": attr }),
    )
}

pub(super) fn not_found() -> (u16, Value) {
    error(404, "invalid_request", "not_found", "Not found.", None)
}

pub(super) fn method_not_allowed(method: &str) -> (u16, Value) {
    let detail = format!("Method \"{method}\" not allowed.");
    error(405, "invalid_request", "method_not_allowed", &detail, None)
}

/// DRF's `LimitOffsetPagination`: absolute `next`/`previous` links built from the request with
/// `limit` and `offset` replaced, query parameters sorted.
pub(super) fn page(
    results: Vec<Value>,
    count: usize,
    limit: usize,
    offset: usize,
    path: &str,
    host: &str,
    params: &[(String, String)],
) -> (u16, Value) {
    let link = |offset: Option<usize>| {
        let mut query: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .cloned()
            .collect();
        query.push(("limit".into(), limit.to_string()));
        if let Some(offset) = offset {
            query.push(("offset".into(), offset.to_string()));
        }
        query.sort();
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("http://{host}{path}?{}", query.join("&"))
    };
    let next = (offset + limit < count).then(|| link(Some(offset + limit)));
    let previous = (offset > 0).then(|| link(offset.checked_sub(limit).filter(|o| *o > 0)));
    (
        200,
        json!({ "count": count, "next": next, "previous": previous, "results": results }),
    )
}
