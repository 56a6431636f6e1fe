//! The closed sets of values the app stores and, where telemetry needs them, sends.
//!
//! Each enum derives `PropertyValue`, so it can be an event property: the catalog lists its
//! variants and nothing but these fixed strings can leave the process. Each is also stored in
//! SQLite and (de)serialised as the same snake_case text.

use serde::{Deserialize, Serialize};
use telemetry_core::PropertyValue;

/// Implements text conversions and SQLite storage for a fieldless enum.
macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in display order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored and serialised text.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }

            /// Parses the stored text.
            pub fn parse(text: &str) -> Option<$ty> {
                match text { $($text => Some($ty::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $ty {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                $ty::parse(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} `{text}`", stringify!($ty)).into(),
                    )
                })
            }
        }
    };
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Waiting for review.
    Review,
    /// Finished.
    Done,
    /// Dropped.
    Cancelled,
}
text_enum!(TaskStatus {
    Todo => "todo",
    InProgress => "in_progress",
    Review => "review",
    Done => "done",
    Cancelled => "cancelled",
});

/// How urgent a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum TaskPriority {
    /// Whenever there is time.
    Low,
    /// The default.
    Medium,
    /// Soon.
    High,
    /// Now.
    Urgent,
}
text_enum!(TaskPriority {
    Low => "low",
    Medium => "medium",
    High => "high",
    Urgent => "urgent",
});

/// What a comment is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum CommentTarget {
    /// A project.
    Project,
    /// A task.
    Task,
}
text_enum!(CommentTarget {
    Project => "project",
    Task => "task",
});

/// Which report was viewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum ReportType {
    /// Hours and amounts per project over a date range.
    Summary,
}
text_enum!(ReportType { Summary => "summary" });

/// Which dates a report covers: a preset relative to today, or the dates the user typed.
/// Only this category is sent with `report.viewed`, never the dates themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum ReportRange {
    /// Today only.
    Today,
    /// Yesterday only.
    Yesterday,
    /// From the first day of this week (per the week-start setting) to today.
    ThisWeek,
    /// The whole previous week.
    LastWeek,
    /// From the first of this month to today.
    ThisMonth,
    /// The whole previous month.
    LastMonth,
    /// The 30 days ending today (the default).
    LastThirtyDays,
    /// Start and end dates chosen by the user.
    Custom,
}
text_enum!(ReportRange {
    Today => "today",
    Yesterday => "yesterday",
    ThisWeek => "this_week",
    LastWeek => "last_week",
    ThisMonth => "this_month",
    LastMonth => "last_month",
    LastThirtyDays => "last_thirty_days",
    Custom => "custom",
});

/// The currency amounts are shown in (an app setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum Currency {
    /// Euro.
    Eur,
    /// US dollar.
    Usd,
    /// Pound sterling.
    Gbp,
    /// Swiss franc.
    Chf,
}
text_enum!(Currency {
    Eur => "eur",
    Usd => "usd",
    Gbp => "gbp",
    Chf => "chf",
});

/// The first day of a week, for the "this week" and "last week" reports (an app setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum WeekStart {
    /// Weeks start on Monday (ISO 8601).
    Monday,
    /// Weeks start on Sunday.
    Sunday,
}
text_enum!(WeekStart {
    Monday => "monday",
    Sunday => "sunday",
});

/// How the report rounds each project's tracked time up (an app setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Exact seconds.
    None,
    /// Up to the next 5 minutes.
    FiveMinutes,
    /// Up to the next quarter hour.
    FifteenMinutes,
    /// Up to the next half hour.
    ThirtyMinutes,
}
text_enum!(Rounding {
    None => "none",
    FiveMinutes => "five_minutes",
    FifteenMinutes => "fifteen_minutes",
    ThirtyMinutes => "thirty_minutes",
});

impl Rounding {
    /// The step in seconds (`None`: no rounding).
    pub const fn step_seconds(self) -> Option<i64> {
        match self {
            Rounding::None => None,
            Rounding::FiveMinutes => Some(300),
            Rounding::FifteenMinutes => Some(900),
            Rounding::ThirtyMinutes => Some(1800),
        }
    }

    /// `seconds` rounded up to the step.
    pub fn apply(self, seconds: i64) -> i64 {
        match self.step_seconds() {
            Some(step) if seconds > 0 => (seconds + step - 1) / step * step,
            _ => seconds,
        }
    }
}

/// What an admin changed about an account. The account itself is not identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum UserChange {
    /// The account may log in again.
    Activated,
    /// The account may no longer log in.
    Deactivated,
    /// The account became an administrator.
    PromotedToAdmin,
    /// The account is no longer an administrator.
    DemotedFromAdmin,
}
text_enum!(UserChange {
    Activated => "activated",
    Deactivated => "deactivated",
    PromotedToAdmin => "promoted_to_admin",
    DemotedFromAdmin => "demoted_from_admin",
});

/// What a CSV export contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum ExportType {
    /// One row per finished time entry.
    TimeEntries,
}
text_enum!(ExportType { TimeEntries => "time_entries" });

/// How a user authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Username and password checked against this app's database.
    Local,
}
text_enum!(AuthMethod { Local => "local" });

/// Why a login attempt was refused. The username itself is never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PropertyValue)]
#[serde(rename_all = "snake_case")]
pub enum LoginFailure {
    /// The username field was empty.
    EmptyUsername,
    /// No account has that username.
    UserNotFound,
    /// The account exists but has been deactivated by an admin.
    AccountDisabled,
    /// The account exists but the password did not match.
    WrongPassword,
    /// Too many failed attempts for this account or from this client: refused without
    /// checking the password.
    RateLimited,
}
text_enum!(LoginFailure {
    EmptyUsername => "empty_username",
    UserNotFound => "user_not_found",
    AccountDisabled => "account_disabled",
    WrongPassword => "wrong_password",
    RateLimited => "rate_limited",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_matches_serde() {
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(*status));
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
        }
        assert_eq!(TaskPriority::parse("urgent"), Some(TaskPriority::Urgent));
        assert_eq!(TaskPriority::parse("Urgent"), None);
        assert_eq!(LoginFailure::EmptyUsername.to_string(), "empty_username");
        assert_eq!(Rounding::FifteenMinutes.apply(1), 900);
        assert_eq!(Rounding::FifteenMinutes.apply(900), 900);
        assert_eq!(Rounding::FifteenMinutes.apply(901), 1800);
        assert_eq!(Rounding::None.apply(61), 61);
    }
}
