//! Time values in rules: ISO dates and times, or relative ones (`90_days_ago`, `2_weeks_ago`,
//! `6_months_ago`, `today`) resolved when the rule is evaluated.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A point in time as a rule states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeValue {
    /// A fixed instant.
    At(DateTime<Utc>),
    /// Midnight UTC, `n` days before today.
    DaysAgo(u32),
    /// Midnight UTC, `n` weeks before today.
    WeeksAgo(u32),
    /// Midnight UTC, `n` calendar months before today.
    MonthsAgo(u32),
}

impl TimeValue {
    /// Reads `2026-01-01`, an RFC 3339 time, `today`, or `<n>_days_ago` / `_weeks_ago` /
    /// `_months_ago` (n up to 36,500 days).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("today") {
            return Some(Self::DaysAgo(0));
        }
        if let Some((n, unit)) = text.split_once('_') {
            let n: u32 = n.parse().ok().filter(|n| *n <= 36_500)?;
            return match unit.to_ascii_lowercase().as_str() {
                "day_ago" | "days_ago" => Some(Self::DaysAgo(n)),
                "week_ago" | "weeks_ago" => Some(Self::WeeksAgo(n)),
                "month_ago" | "months_ago" => Some(Self::MonthsAgo(n)),
                _ => None,
            };
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Self::At(t.with_timezone(&Utc)));
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(Self::At(date.and_hms_opt(0, 0, 0)?.and_utc()))
    }

    /// The instant this value means at `now`.
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        match self {
            Self::At(t) => t,
            Self::DaysAgo(n) => midnight - Duration::days(i64::from(n)),
            Self::WeeksAgo(n) => midnight - Duration::weeks(i64::from(n)),
            Self::MonthsAgo(n) => midnight.checked_sub_months(Months::new(n)).unwrap_or(midnight),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn relative_values_resolve_from_today_midnight() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 15, 0, 0).unwrap();
        let at = |text: &str| TimeValue::parse(text).unwrap().resolve(now).to_rfc3339();
        assert_eq!(at("today"), "2026-03-31T00:00:00+00:00");
        assert_eq!(at("90_days_ago"), "2025-12-31T00:00:00+00:00");
        assert_eq!(at("2_weeks_ago"), "2026-03-17T00:00:00+00:00");
        assert_eq!(at("1_month_ago"), "2026-02-28T00:00:00+00:00");
        assert_eq!(at("2026-01-01"), "2026-01-01T00:00:00+00:00");
        assert_eq!(at("2026-01-01T10:00:00+02:00"), "2026-01-01T08:00:00+00:00");
    }

    #[test]
    fn refuses_other_text() {
        for bad in ["yesterday", "x_days_ago", "3_fortnights_ago", "-1_days_ago", "99999999_days_ago", "2026-13-01"] {
            assert_eq!(TimeValue::parse(bad), None, "{bad}");
        }
    }
}
