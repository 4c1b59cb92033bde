//! A customer's metrics (SPEC §7), computed at read time from its order aggregates, the store's
//! RFM breakpoints and the store's fitted models (or the documented fallback before a fit); and
//! a store's fit from all its buying customers.

use super::btyd::{self, BgNbdParams, FallbackOptions, FitResult, GammaGammaParams, Models, Prediction, Summary};
use super::money::Money;
use super::rfm::{self, Breakpoints, RfmScores};
use chrono::{DateTime, NaiveDate, Utc};
use std::time::{Duration, Instant};

/// A customer's order aggregates, as the customers table keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderStats {
    pub total_orders: i32,
    /// Minor units.
    pub total_spent: i64,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    /// Distinct UTC days with an order.
    pub order_days: i32,
    /// Spent on the first purchase day (minor units).
    pub first_day_spent: i64,
}

impl OrderStats {
    /// The models' summary as of the UTC day `today` (SPEC §7 conventions: whole UTC days,
    /// same-day orders merged, repeat days only for spend). `None` without orders.
    pub fn summary(&self, today: NaiveDate) -> Option<Summary> {
        let (first, last) = (self.first_order_at?.date_naive(), self.last_order_at?.date_naive());
        if self.order_days < 1 {
            return None;
        }
        let x = f64::from(self.order_days - 1);
        let repeat_spent = Money(self.total_spent - self.first_day_spent).as_major();
        Some(Summary {
            x,
            t_x: (last - first).num_days() as f64,
            t: (today - first).num_days().max(0) as f64,
            monetary: (x > 0.0).then(|| repeat_spent / x),
            mean_all: Money(self.total_spent).as_major() / f64::from(self.order_days),
        })
    }
}

/// Everything `Customer.metrics` shows beyond the raw totals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerMetrics {
    pub rfm: Option<RfmScores>,
    /// Major units; `None` without orders.
    pub average_order_value: Option<f64>,
    /// Mean days between consecutive orders; `None` under two orders.
    pub purchase_frequency_days: Option<f64>,
    /// Churn risk and 12-month value; `None` without orders.
    pub prediction: Option<Prediction>,
}

/// Computes a customer's metrics at `now`.
pub fn compute(stats: &OrderStats, breakpoints: Option<&Breakpoints>, models: Option<&Models>, now: DateTime<Utc>) -> CustomerMetrics {
    let rfm = match (breakpoints, stats.last_order_at) {
        (Some(b), Some(last)) if stats.total_orders > 0 => Some(rfm::score(b, last, stats.total_orders, stats.total_spent)),
        _ => None,
    };
    let purchase_frequency_days = match (stats.first_order_at, stats.last_order_at) {
        (Some(first), Some(last)) if stats.total_orders >= 2 => {
            Some((last - first).num_milliseconds() as f64 / 86_400_000.0 / f64::from(stats.total_orders - 1))
        }
        _ => None,
    };
    let prediction = stats
        .summary(now.date_naive())
        .map(|s| btyd::predict_or_fallback(models, &s, &FallbackOptions::default(), btyd::DEFAULT_ANNUAL_DISCOUNT_RATE));
    CustomerMetrics {
        rfm,
        average_order_value: (stats.total_orders > 0).then(|| Money(stats.total_spent).as_major() / f64::from(stats.total_orders)),
        purchase_frequency_days,
        prediction,
    }
}

/// A store's fit.
#[derive(Debug, Clone)]
pub struct StoreFit {
    pub bgnbd: Option<FitResult<BgNbdParams>>,
    pub gamma_gamma: Option<FitResult<GammaGammaParams>>,
    pub customers: usize,
    pub repeat_customers: usize,
    pub orders: i64,
    pub observed_until: NaiveDate,
    pub duration: Duration,
    /// Why the models are not used, when they are not.
    pub fallback_reason: Option<String>,
}

impl StoreFit {
    /// The models to predict with, when both fits converged.
    pub fn models(&self) -> Option<Models> {
        match (&self.bgnbd, &self.gamma_gamma) {
            (Some(bg), Some(gg)) if bg.converged && gg.converged => Some(Models { purchases: bg.params, spend: gg.params }),
            _ => None,
        }
    }
}

/// Fits the store's models from its buying customers as of `today`.
pub fn fit_store(stats: &[OrderStats], today: NaiveDate) -> StoreFit {
    let started = Instant::now();
    let summaries: Vec<Summary> = stats.iter().filter_map(|s| s.summary(today)).collect();
    let repeat_customers = summaries.iter().filter(|s| s.x >= 1.0).count();
    let mut fit = StoreFit {
        bgnbd: None,
        gamma_gamma: None,
        customers: summaries.len(),
        repeat_customers,
        orders: stats.iter().map(|s| i64::from(s.total_orders)).sum(),
        observed_until: today,
        duration: Duration::ZERO,
        fallback_reason: None,
    };
    if !btyd::enough_data(&summaries) {
        fit.fallback_reason = Some(format!(
            "not enough data to fit: {} customers with orders ({} with a repeat purchase); the models need {} ({})",
            summaries.len(),
            repeat_customers,
            btyd::fallback::MIN_CUSTOMERS_TO_FIT,
            btyd::fallback::MIN_REPEAT_CUSTOMERS_TO_FIT
        ));
    } else {
        fit.bgnbd = btyd::bgnbd::fit(&summaries);
        fit.gamma_gamma = btyd::gamma_gamma::fit(&summaries);
        if fit.models().is_none() {
            fit.fallback_reason = Some("the last fit did not converge; the fallback is used until one does".into());
        }
    }
    fit.duration = started.elapsed();
    fit
}
