//! The fallback used before a store has enough history to fit the models (or when a fit fails):
//! simple, explainable rules of thumb from the customer's own history, returning the same
//! [`Prediction`] shape as the models.
//!
//! - **Usual gap** g: the customer's mean days between purchase days, t_x / x; for a customer
//!   with one purchase day, [`FallbackOptions::default_gap_days`] (90 unless the caller, e.g.
//!   from the store's own median gap, says otherwise). Never below one day.
//! - **Still active** (p_alive): 1 while the silence since the last purchase, T − t_x, is at most
//!   g; past that it decays by a factor e per further gap: exp(−(silence − g)/g). So two gaps'
//!   silence gives 0.37, three 0.14. Churn risk is 1 − p_alive.
//! - **Expected purchases**: the customer keeps buying at rate 1/g, scaled by p_alive and
//!   fading with time constant [`FallbackOptions::decay_days`] (365): rate(s) =
//!   p_alive/g · e^(−s/τ), so month m brings p_alive · τ/g · (e^(−(m−1)M/τ) − e^(−mM/τ)) with
//!   M = 30.4375 days.
//! - **Expected spend**: the average order value, the mean spend per purchase day over all of
//!   the customer's purchase days ([`Summary::mean_all`]).
//! - **CLV**: expected purchases × spend per month, discounted monthly exactly like the models
//!   ([`super::clv`]).

use super::clv::{Method, Models, Prediction, discounted_value, predict};
use super::summary::Summary;

/// Customers a store needs before the models are fitted.
pub const MIN_CUSTOMERS_TO_FIT: usize = 200;
/// Of those, customers with a repeat purchase (the Gamma-Gamma model only learns from them).
pub const MIN_REPEAT_CUSTOMERS_TO_FIT: usize = 50;

/// Whether `summaries` (a store's customers) are enough to fit the models.
pub fn enough_data(summaries: &[Summary]) -> bool {
    let repeaters = summaries.iter().filter(|s| s.x >= 1.0 && s.monetary.is_some()).count();
    summaries.len() >= MIN_CUSTOMERS_TO_FIT && repeaters >= MIN_REPEAT_CUSTOMERS_TO_FIT
}

/// Settings for the fallback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FallbackOptions {
    /// The gap assumed for customers with a single purchase day, in days.
    pub default_gap_days: f64,
    /// Time constant of the fade in purchase rate, in days.
    pub decay_days: f64,
}

impl Default for FallbackOptions {
    fn default() -> Self {
        Self { default_gap_days: 90.0, decay_days: 365.0 }
    }
}

/// The customer's usual gap between purchase days, in days (at least one).
pub fn usual_gap(summary: &Summary, options: &FallbackOptions) -> f64 {
    let gap = if summary.x >= 1.0 { summary.t_x / summary.x } else { options.default_gap_days };
    if gap.is_finite() { gap.max(1.0) } else { 1.0 }
}

/// The fallback's probability that the customer is still active.
pub fn fallback_p_alive(summary: &Summary, options: &FallbackOptions) -> f64 {
    let gap = usual_gap(summary, options);
    let silence = (summary.t - summary.t_x).max(0.0);
    if silence <= gap { 1.0 } else { (-(silence - gap) / gap).exp() }
}

/// The fallback's twelve-month outlook for `summary`, discounted at `annual_discount_rate`.
pub fn predict_fallback(
    summary: &Summary,
    options: &FallbackOptions,
    annual_discount_rate: f64,
) -> Prediction {
    let gap = usual_gap(summary, options);
    let p_alive = fallback_p_alive(summary, options);
    let tau = options.decay_days.max(1.0);
    let cumulative = |days: f64| Some(p_alive * tau / gap * (1.0 - (-days / tau).exp()));
    let spend = if summary.mean_all.is_finite() { summary.mean_all.max(0.0) } else { 0.0 };
    let (expected_purchases, clv) =
        discounted_value(cumulative, spend, annual_discount_rate).unwrap_or((0.0, 0.0));
    Prediction { p_alive, expected_purchases, expected_spend: spend, clv, method: Method::Fallback }
}

/// The models' prediction when there are models and they give one, else the fallback's.
pub fn predict_or_fallback(
    models: Option<&Models>,
    summary: &Summary,
    options: &FallbackOptions,
    annual_discount_rate: f64,
) -> Prediction {
    models
        .and_then(|m| predict(m, summary, annual_discount_rate))
        .unwrap_or_else(|| predict_fallback(summary, options, annual_discount_rate))
}

#[cfg(test)]
mod tests {
    use super::super::clv::{DAYS_PER_MONTH, DEFAULT_ANNUAL_DISCOUNT_RATE};
    use super::*;

    fn summary(x: f64, t_x: f64, t: f64, mean_all: f64) -> Summary {
        Summary { x, t_x, t, monetary: (x > 0.0).then_some(mean_all), mean_all }
    }

    #[test]
    fn active_within_the_usual_gap_then_decaying() {
        let options = FallbackOptions::default();
        // four repeats over 120 days: a 30-day gap
        assert_eq!(usual_gap(&summary(4.0, 120.0, 140.0, 10.0), &options), 30.0);
        assert_eq!(fallback_p_alive(&summary(4.0, 120.0, 150.0, 10.0), &options), 1.0);
        let two_gaps = fallback_p_alive(&summary(4.0, 120.0, 180.0, 10.0), &options);
        assert!((two_gaps - (-1.0f64).exp()).abs() < 1e-15);
        let three_gaps = fallback_p_alive(&summary(4.0, 120.0, 210.0, 10.0), &options);
        assert!(three_gaps < two_gaps && three_gaps > 0.0);
        // one purchase day: the default gap
        assert_eq!(usual_gap(&summary(0.0, 0.0, 10.0, 10.0), &options), 90.0);
        assert_eq!(fallback_p_alive(&summary(0.0, 0.0, 89.0, 10.0), &options), 1.0);
    }

    #[test]
    fn expected_purchases_follow_the_historical_rate_with_decay() {
        let options = FallbackOptions::default();
        let s = summary(4.0, 120.0, 130.0, 25.0);
        let p = predict_fallback(&s, &options, 0.0);
        let year = 12.0 * DAYS_PER_MONTH;
        let want = 365.0 / 30.0 * (1.0 - (-year / 365.0f64).exp());
        assert!((p.expected_purchases - want).abs() < 1e-9, "{p:?}");
        assert!(p.expected_purchases < year / 30.0);
        assert!((p.clv - want * 25.0).abs() < 1e-9);
        assert_eq!(p.method, Method::Fallback);
        assert_eq!(p.churn_risk(), 0.0);
        let discounted = predict_fallback(&s, &options, DEFAULT_ANNUAL_DISCOUNT_RATE);
        assert!(discounted.clv < p.clv && discounted.clv > p.clv / 1.1);
    }

    #[test]
    fn lapsed_customers_are_worth_less() {
        let options = FallbackOptions::default();
        let recent = predict_fallback(&summary(3.0, 60.0, 70.0, 50.0), &options, 0.1);
        let lapsed = predict_fallback(&summary(3.0, 60.0, 200.0, 50.0), &options, 0.1);
        assert!(lapsed.p_alive < recent.p_alive && lapsed.clv < recent.clv);
        assert!((lapsed.clv / recent.clv - lapsed.p_alive).abs() < 1e-12);
    }

    #[test]
    fn odd_inputs_stay_finite() {
        let options = FallbackOptions { default_gap_days: 0.0, decay_days: 0.0 };
        let p = predict_fallback(&summary(0.0, 0.0, 0.0, f64::NAN), &options, 0.1);
        assert!(p.clv == 0.0 && p.expected_purchases.is_finite() && p.p_alive == 1.0, "{p:?}");
    }

    #[test]
    fn uses_the_fallback_without_models_or_enough_data() {
        let few: Vec<Summary> = (0..100).map(|i| summary(f64::from(i % 3), 10.0, 20.0, 5.0)).collect();
        assert!(!enough_data(&few));
        let many: Vec<Summary> = (0..300).map(|i| summary(f64::from(i % 3), 10.0, 20.0, 5.0)).collect();
        assert!(enough_data(&many));
        let s = summary(1.0, 10.0, 20.0, 5.0);
        let p = predict_or_fallback(None, &s, &FallbackOptions::default(), 0.1);
        assert_eq!(p, predict_fallback(&s, &FallbackOptions::default(), 0.1));
    }
}
