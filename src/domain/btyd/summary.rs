//! From a customer's orders to the models' inputs (x, t_x, T, repeat mean spend).
//!
//! Conventions, fixed here once so that fitting and scoring always agree:
//! - time is counted in whole UTC calendar days;
//! - orders on the same UTC day are one purchase (their amounts summed);
//! - `x` = distinct purchase days − 1 (repeat purchases);
//! - `t_x` = days from the first to the last purchase day;
//! - `T` = days from the first purchase day to the observation end day (today, or the end of a
//!   calibration period); orders after the end day are ignored;
//! - the Gamma-Gamma monetary value is the mean amount of the *repeat* purchase days only (the
//!   first day excluded), undefined when `x = 0`.
//!
//! These reproduce, to the rounding of the published file, the CDNOW calibration summary that
//! Fader & Hardie and the `lifetimes` package fit (`cdnow_customers_summary_with_transactions.csv`).

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// One order as the models see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// When the order was placed.
    pub at: DateTime<Utc>,
    /// Its amount in minor units (cents).
    pub amount_cents: i64,
}

/// A customer's purchase history reduced to what the models use. Times in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Repeat purchases: distinct purchase days − 1.
    pub x: f64,
    /// Days from the first to the last purchase day (recency).
    pub t_x: f64,
    /// Days from the first purchase day to the observation end day (age).
    pub t: f64,
    /// Mean spend per repeat purchase day, in major units; `None` when `x = 0`.
    pub monetary: Option<f64>,
    /// Mean spend per purchase day over all purchase days, the first included, in major units
    /// (the average order value the fallback uses; the models do not).
    pub mean_all: f64,
}

/// Summarises `orders` (in any order) as seen at the end of UTC day `end`.
/// `None` when no order falls on or before `end`.
pub fn summarize(orders: &[Order], end: NaiveDate) -> Option<Summary> {
    let mut days: BTreeMap<NaiveDate, i128> = BTreeMap::new();
    for order in orders {
        let day = order.at.date_naive();
        if day <= end {
            *days.entry(day).or_default() += i128::from(order.amount_cents);
        }
    }
    let (&first, &first_amount) = days.first_key_value()?;
    let (&last, _) = days.last_key_value()?;
    let repeats = days.len() - 1;
    let total: i128 = days.values().sum();
    let repeat_total = total - first_amount;
    let major = |cents: i128, n: usize| cents as f64 / 100.0 / n as f64;
    Some(Summary {
        x: repeats as f64,
        t_x: (last - first).num_days() as f64,
        t: (end - first).num_days() as f64,
        monetary: (repeats > 0).then(|| major(repeat_total, repeats)),
        mean_all: major(total, days.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn order(y: i32, m: u32, d: u32, h: u32, cents: i64) -> Order {
        let at = Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid time");
        Order { at, amount_cents: cents }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn no_orders_no_summary() {
        assert_eq!(summarize(&[], day(2024, 1, 1)), None);
        let later = [order(2024, 2, 1, 9, 100)];
        assert_eq!(summarize(&later, day(2024, 1, 31)), None);
    }

    #[test]
    fn single_purchase_has_no_repeat_value() {
        let s = summarize(&[order(2024, 1, 1, 23, 1999)], day(2024, 1, 11)).expect("summary");
        assert_eq!((s.x, s.t_x, s.t), (0.0, 0.0, 10.0));
        assert_eq!(s.monetary, None);
        assert_eq!(s.mean_all, 19.99);
    }

    #[test]
    fn same_utc_day_is_one_purchase_with_summed_amount() {
        let orders = [
            order(2024, 1, 1, 0, 1000),
            order(2024, 1, 1, 23, 500),
            order(2024, 1, 5, 8, 2000),
            order(2024, 1, 5, 20, 1000),
            order(2024, 1, 2, 1, 4000),
        ];
        let s = summarize(&orders, day(2024, 1, 10)).expect("summary");
        assert_eq!(s.x, 2.0);
        assert_eq!(s.t_x, 4.0);
        assert_eq!(s.t, 9.0);
        // repeat days: Jan 2 = 40.00, Jan 5 = 30.00; the first day (15.00) is excluded
        assert_eq!(s.monetary, Some(35.0));
        assert_eq!(s.mean_all, (15.0 + 40.0 + 30.0) / 3.0);
    }

    #[test]
    fn orders_after_the_end_day_are_ignored() {
        let orders = [order(2024, 1, 1, 12, 1000), order(2024, 1, 31, 23, 3000), order(2024, 2, 1, 0, 9900)];
        let s = summarize(&orders, day(2024, 1, 31)).expect("summary");
        assert_eq!((s.x, s.t_x, s.t), (1.0, 30.0, 30.0));
        assert_eq!(s.monetary, Some(30.0));
    }

    #[test]
    fn time_is_utc_days_not_elapsed_hours() {
        // 23:59 then 00:01 the next UTC day: two purchases one day apart
        let a = Utc.with_ymd_and_hms(2024, 3, 1, 23, 59, 0).single().expect("valid time");
        let b = Utc.with_ymd_and_hms(2024, 3, 2, 0, 1, 0).single().expect("valid time");
        let orders = [Order { at: a, amount_cents: 100 }, Order { at: b, amount_cents: 300 }];
        let s = summarize(&orders, day(2024, 3, 2)).expect("summary");
        assert_eq!((s.x, s.t_x, s.t, s.monetary), (1.0, 1.0, 1.0, Some(3.0)));
    }
}
