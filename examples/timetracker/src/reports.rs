//! The summary report and the CSV export of time entries.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, Days, Months, NaiveDate};
use maud::html;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use telemetry_core::track;

use crate::auth::{CurrentUser, Session, User};
use crate::error::{AppError, HtmlError};
use crate::models::{Currency, ExportType, ReportRange, ReportType, Rounding, WeekStart};
use crate::settings;
use crate::state::AppState;
use crate::views;

/// The longest range a report or export may cover, in days.
pub const MAX_RANGE_DAYS: i64 = 366;
/// The range used when none is given, in days (ending today).
pub const DEFAULT_RANGE_DAYS: u64 = 30;

/// `?range=this_week` (a [`ReportRange`]) or `?start=YYYY-MM-DD&end=YYYY-MM-DD`; all optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RangeQuery {
    /// A preset such as `today` or `this_month`; `custom` (or no preset) uses the dates.
    #[serde(default)]
    pub range: Option<String>,
    /// The first day (inclusive).
    pub start: Option<String>,
    /// The last day (inclusive).
    pub end: Option<String>,
}

/// A validated, inclusive range of days (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    /// The first day.
    pub start: NaiveDate,
    /// The last day.
    pub end: NaiveDate,
}

impl DateRange {
    /// Parses and checks a query: dates in `YYYY-MM-DD`, start not after end, at most
    /// [`MAX_RANGE_DAYS`] days. Missing bounds default to the last 30 days.
    pub fn from_query(query: &RangeQuery) -> Result<DateRange, AppError> {
        let parse = |value: &Option<String>, field: &str| -> Result<Option<NaiveDate>, AppError> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        AppError::invalid(format!("{field} must be a date like 2025-01-31"))
                    }),
            }
        };
        let end = parse(&query.end, "end")?.unwrap_or_else(|| chrono::Utc::now().date_naive());
        let start = match parse(&query.start, "start")? {
            Some(start) => start,
            None => end
                .checked_sub_days(Days::new(DEFAULT_RANGE_DAYS - 1))
                .unwrap_or(end),
        };
        if start > end {
            return Err(AppError::invalid("the start date is after the end date"));
        }
        let range = DateRange { start, end };
        if range.days() > MAX_RANGE_DAYS {
            return Err(AppError::invalid(format!(
                "a range can cover at most {MAX_RANGE_DAYS} days"
            )));
        }
        Ok(range)
    }

    /// Resolves a report's query against `today`: a preset `range`, else the typed dates
    /// (`custom`), else the last 30 days. Returns the range and which kind it was.
    pub fn resolve(
        query: &RangeQuery,
        today: NaiveDate,
        week_start: WeekStart,
    ) -> Result<(DateRange, ReportRange), AppError> {
        let preset = match query
            .range
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(text) => Some(
                ReportRange::parse(text)
                    .ok_or_else(|| AppError::invalid(format!("unknown report range `{text}`")))?,
            ),
            None => None,
        };
        let typed = [&query.start, &query.end]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
        let kind = match preset {
            Some(kind) => kind,
            None if typed => ReportRange::Custom,
            None => ReportRange::LastThirtyDays,
        };
        let day = |n: u64| today.checked_sub_days(Days::new(n)).unwrap_or(today);
        let week_offset = u64::from(match week_start {
            WeekStart::Monday => today.weekday().num_days_from_monday(),
            WeekStart::Sunday => today.weekday().num_days_from_sunday(),
        });
        let month_start = today.with_day(1).unwrap_or(today);
        let range = |start: NaiveDate, end: NaiveDate| DateRange { start, end };
        let resolved = match kind {
            ReportRange::Today => range(today, today),
            ReportRange::Yesterday => range(day(1), day(1)),
            ReportRange::ThisWeek => range(day(week_offset), today),
            ReportRange::LastWeek => range(day(week_offset + 7), day(week_offset + 1)),
            ReportRange::ThisMonth => range(month_start, today),
            ReportRange::LastMonth => {
                let end = month_start.pred_opt().unwrap_or(month_start);
                let start = month_start
                    .checked_sub_months(Months::new(1))
                    .unwrap_or(month_start);
                range(start, end)
            }
            ReportRange::LastThirtyDays => range(day(DEFAULT_RANGE_DAYS - 1), today),
            ReportRange::Custom => DateRange::from_query(query)?,
        };
        Ok((resolved, kind))
    }

    /// How many days it covers (inclusive: a single day is 1).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// `[from, to)` as stored timestamps, for SQL.
    fn bounds(&self) -> (String, String) {
        let after_end = self.end.checked_add_days(Days::new(1)).unwrap_or(self.end);
        (
            format!("{}T00:00:00Z", self.start),
            format!("{after_end}T00:00:00Z"),
        )
    }
}

/// Hours and amounts of one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectTotal {
    /// The project.
    pub project_id: i64,
    /// Its name.
    pub project_name: String,
    /// Whether it is billable.
    pub billable: bool,
    /// Tracked seconds in the range.
    pub seconds: i64,
    /// Billable amount (hours × rate) when billable and a rate is set.
    pub amount: Option<f64>,
}

/// The summary report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The range covered.
    pub range: DateRange,
    /// Which kind of range it was.
    pub range_kind: ReportRange,
    /// The currency of the amounts (the app setting).
    pub currency: Currency,
    /// How each project's time was rounded up (the app setting).
    pub rounding: Rounding,
    /// Finished entries in the range.
    pub entries: i64,
    /// Their total duration in seconds.
    pub total_seconds: i64,
    /// Per project, most time first.
    pub projects: Vec<ProjectTotal>,
}

fn summarize(
    conn: &Connection,
    user_id: i64,
    query: &RangeQuery,
    today: NaiveDate,
) -> Result<Summary, AppError> {
    let settings = settings::load(conn)?;
    let (range, range_kind) = DateRange::resolve(query, today, settings.week_start)?;
    let rounding = settings.rounding;
    let (from, to) = range.bounds();
    let mut stmt = conn.prepare(
        "SELECT p.id, p.name, p.billable, p.hourly_rate, COUNT(e.id), SUM(e.duration_seconds)
         FROM time_entries e JOIN projects p ON p.id = e.project_id
         WHERE e.user_id = ?1 AND e.end_time IS NOT NULL AND e.start_time >= ?2 AND e.start_time < ?3
         GROUP BY p.id ORDER BY SUM(e.duration_seconds) DESC, p.id",
    )?;
    let mut entries = 0;
    let mut total_seconds = 0;
    let projects = stmt
        .query_map(params![user_id, from, to], |row| {
            let billable: bool = row.get(2)?;
            let rate: Option<f64> = row.get(3)?;
            let count: i64 = row.get(4)?;
            let seconds = rounding.apply(row.get::<_, Option<i64>>(5)?.unwrap_or_default());
            Ok((
                count,
                ProjectTotal {
                    project_id: row.get(0)?,
                    project_name: row.get(1)?,
                    billable,
                    seconds,
                    amount: rate
                        .filter(|_| billable)
                        .map(|r| (seconds as f64 / 3600.0 * r * 100.0).round() / 100.0),
                },
            ))
        })?
        .map(|row| {
            row.map(|(count, total)| {
                entries += count;
                total_seconds += total.seconds;
                total
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Summary {
        range,
        range_kind,
        currency: settings.currency,
        rounding,
        entries,
        total_seconds,
        projects,
    })
}

/// Computes the summary report (hours per project over a date range) for `user`.
///
/// `report.viewed` is captured after the range was resolved, with its kind (`this_week`,
/// `custom`, ...), never the dates.
pub async fn summary_report(
    state: &AppState,
    user: &User,
    query: RangeQuery,
) -> Result<Summary, AppError> {
    let user_id = user.id;
    let today = chrono::Utc::now().date_naive();
    let summary = state
        .db
        .call(move |conn| summarize(conn, user_id, &query, today))
        .await?;
    track!(
        "report.viewed",
        description = "The summary report was viewed, with the kind of date range it covered \
                       (a preset such as this_week, or custom); the dates are never sent.",
        distinct_id = user.id,
        props(
            report_type: ReportType = ReportType::Summary,
            date_range: ReportRange = summary.range_kind
        )
    );
    Ok(summary)
}

/// A finished CSV export.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvExport {
    /// The range exported.
    pub range: DateRange,
    /// Data rows (without the header).
    pub rows: usize,
    /// The CSV text.
    pub body: String,
}

/// Quotes a CSV field when needed, and defuses spreadsheet formulas in free text.
fn csv_field(out: &mut String, value: &str, free_text: bool) {
    let formula = free_text && value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&value);
    }
}

fn export_rows(
    conn: &Connection,
    user_id: i64,
    range: DateRange,
) -> Result<(usize, String), AppError> {
    let (from, to) = range.bounds();
    let mut stmt = conn.prepare(
        "SELECT e.id, e.start_time, e.end_time, e.duration_seconds, p.name, t.name, c.name,
                p.billable, e.notes
         FROM time_entries e
         JOIN projects p ON p.id = e.project_id
         LEFT JOIN tasks t ON t.id = e.task_id
         LEFT JOIN clients c ON c.id = p.client_id
         WHERE e.user_id = ?1 AND e.end_time IS NOT NULL AND e.start_time >= ?2 AND e.start_time < ?3
         ORDER BY e.start_time, e.id",
    )?;
    let mut out = String::from(
        "entry_id,start_time,end_time,duration_seconds,hours,project,task,client,billable,notes\r\n",
    );
    let mut rows = 0;
    let mut query = stmt.query(params![user_id, from, to])?;
    while let Some(row) = query.next()? {
        let seconds: i64 = row.get::<_, Option<i64>>(3)?.unwrap_or_default();
        let fields: [(String, bool); 10] = [
            (row.get::<_, i64>(0)?.to_string(), false),
            (row.get::<_, String>(1)?, false),
            (row.get::<_, Option<String>>(2)?.unwrap_or_default(), false),
            (seconds.to_string(), false),
            (format!("{:.2}", seconds as f64 / 3600.0), false),
            (row.get::<_, String>(4)?, true),
            (row.get::<_, Option<String>>(5)?.unwrap_or_default(), true),
            (row.get::<_, Option<String>>(6)?.unwrap_or_default(), true),
            (row.get::<_, bool>(7)?.to_string(), false),
            (row.get::<_, Option<String>>(8)?.unwrap_or_default(), true),
        ];
        for (i, (value, free_text)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, value, *free_text);
        }
        out.push_str("\r\n");
        rows += 1;
    }
    Ok((rows, out))
}

/// Exports the user's finished time entries in a date range as CSV.
pub async fn export_csv(
    state: &AppState,
    user: &User,
    query: RangeQuery,
) -> Result<CsvExport, AppError> {
    let range = DateRange::from_query(&query)?;
    let user_id = user.id;
    let (rows, body) = state
        .db
        .call(move |conn| export_rows(conn, user_id, range))
        .await?;
    track!(
        "export.csv",
        description = "Time entries were exported as CSV: how many rows and how many days the \
                       range covered.",
        distinct_id = user.id,
        props(
            export_type: ExportType = ExportType::TimeEntries,
            num_rows: usize = rows,
            date_range_days: i64 = range.days()
        )
    );
    Ok(CsvExport { range, rows, body })
}

// --- HTTP ------------------------------------------------------------------------------------

async fn report_page(
    State(state): State<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    Query(query): Query<RangeQuery>,
) -> Result<views::Page, HtmlError> {
    let summary = summary_report(&state, &user, query).await?;
    let csrf = session.csrf_token();
    let (start, end) = (summary.range.start, summary.range.end);
    let body = html! {
        h1 { "Summary report" }
        nav #report-presets {
            @for preset in ReportRange::ALL.iter().filter(|r| **r != ReportRange::Custom) {
                a href={ "/reports?range=" (preset) } { (preset.as_str().replace('_', " ")) } " "
            }
        }
        form #report-range method="get" action="/reports" {
            input type="hidden" name="range" value="custom";
            label.inline { "From " input type="date" name="start" value=(start); }
            " "
            label.inline { "to " input type="date" name="end" value=(end); }
            " "
            button type="submit" { "Show" }
        }
        p {
            strong #report-total { (views::hms(summary.total_seconds)) }
            " in " (summary.entries) " entries from " (start) " to " (end) ". "
            a #export-csv href={ "/reports/export.csv?start=" (start) "&end=" (end) } { "Export as CSV" }
        }
        table #report-projects {
            thead { tr { th { "Project" } th { "Time" } th { "Billable" } th { "Amount" } } }
            tbody {
                @for project in &summary.projects {
                    tr {
                        td { (project.project_name) }
                        td { (views::hms(project.seconds)) }
                        td { @if project.billable { "yes" } @else { "no" } }
                        td { @if let Some(amount) = project.amount { (format!("{amount:.2} {}", summary.currency.as_str().to_uppercase())) } }
                    }
                }
            }
        }
    };
    Ok(views::page("Reports", Some(&user), Some(&csrf), body))
}

async fn api_summary(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Summary>, AppError> {
    Ok(Json(summary_report(&state, &user, query).await?))
}

async fn export_download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<RangeQuery>,
) -> Result<Response, AppError> {
    let export = export_csv(&state, &user, query).await?;
    let filename = format!(
        "attachment; filename=\"time-entries-{}-to-{}.csv\"",
        export.range.start, export.range.end
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        export.body,
    )
        .into_response())
}

/// Routes: `/reports`, `/reports/export.csv`, `/api/reports/summary`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(report_page))
        .route("/reports/export.csv", get(export_download))
        .route("/api/reports/summary", get(api_summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: &str, end: &str) -> Result<DateRange, AppError> {
        DateRange::from_query(&RangeQuery {
            range: None,
            start: Some(start.to_owned()),
            end: Some(end.to_owned()),
        })
    }

    #[test]
    fn ranges_are_inclusive_and_checked() {
        assert_eq!(range("2025-01-01", "2025-01-01").unwrap().days(), 1);
        assert_eq!(range("2025-01-01", "2025-01-31").unwrap().days(), 31);
        assert!(range("2025-02-01", "2025-01-01").is_err());
        assert!(range("2025-13-01", "2025-01-01").is_err());
        assert!(range("2020-01-01", "2025-01-01").is_err());
        let default = DateRange::from_query(&RangeQuery::default()).unwrap();
        assert_eq!(default.days(), DEFAULT_RANGE_DAYS as i64);
    }

    fn preset(name: &str, today: &str, week_start: WeekStart) -> (NaiveDate, NaiveDate) {
        let query = RangeQuery {
            range: Some(name.to_owned()),
            ..RangeQuery::default()
        };
        let today = NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
        let (range, kind) = DateRange::resolve(&query, today, week_start).unwrap();
        assert_eq!(kind.as_str(), name);
        (range.start, range.end)
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn presets_resolve_against_today_and_the_week_start() {
        // 2025-03-05 is a Wednesday.
        let wed = "2025-03-05";
        let monday = WeekStart::Monday;
        assert_eq!(preset("today", wed, monday), (day(wed), day(wed)));
        assert_eq!(
            preset("yesterday", wed, monday),
            (day("2025-03-04"), day("2025-03-04"))
        );
        assert_eq!(
            preset("this_week", wed, monday),
            (day("2025-03-03"), day(wed))
        );
        assert_eq!(
            preset("this_week", wed, WeekStart::Sunday),
            (day("2025-03-02"), day(wed))
        );
        assert_eq!(
            preset("last_week", wed, monday),
            (day("2025-02-24"), day("2025-03-02"))
        );
        assert_eq!(
            preset("this_month", wed, monday),
            (day("2025-03-01"), day(wed))
        );
        assert_eq!(
            preset("last_month", wed, monday),
            (day("2025-02-01"), day("2025-02-28"))
        );
        assert_eq!(
            preset("last_thirty_days", wed, monday),
            (day("2025-02-04"), day(wed))
        );
        let bad = RangeQuery {
            range: Some("forever".to_owned()),
            ..RangeQuery::default()
        };
        assert!(DateRange::resolve(&bad, day(wed), monday).is_err());
        let typed = RangeQuery {
            range: None,
            start: Some("2025-01-01".to_owned()),
            end: Some("2025-01-02".to_owned()),
        };
        let (range, kind) = DateRange::resolve(&typed, day(wed), monday).unwrap();
        assert_eq!((kind, range.days()), (ReportRange::Custom, 2));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        let mut out = String::new();
        csv_field(&mut out, "a,\"b\"", true);
        assert_eq!(out, "\"a,\"\"b\"\"\"");
        let mut out = String::new();
        csv_field(&mut out, "=SUM(A1)", true);
        assert_eq!(out, "'=SUM(A1)");
        let mut out = String::new();
        csv_field(&mut out, "-5", false);
        assert_eq!(out, "-5");
    }
}
