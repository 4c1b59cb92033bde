//! Twelve-month customer lifetime value from the fitted models: expected purchases in each of the
//! next twelve months (BG/NBD) times expected spend per purchase (Gamma-Gamma), each month
//! discounted to today.
//!
//! Months are 30.4375 days (a Julian year over twelve). Month m's purchases are
//! E[Y(30.4375·m)] − E[Y(30.4375·(m−1))] and are discounted by (1 + d)^m, where the monthly rate
//! d = (1 + annual)^(1/12) − 1 compounds to the annual rate ([`DEFAULT_ANNUAL_DISCOUNT_RATE`],
//! 10% a year, unless the caller says otherwise).

use super::bgnbd::BgNbdParams;
use super::gamma_gamma::GammaGammaParams;
use super::summary::Summary;

/// Days in a month: 365.25 / 12.
pub const DAYS_PER_MONTH: f64 = 30.4375;
/// The months a prediction looks ahead.
pub const HORIZON_MONTHS: u32 = 12;
/// The annual discount rate used unless the caller chooses another: 10%.
pub const DEFAULT_ANNUAL_DISCOUNT_RATE: f64 = 0.10;

/// The monthly rate that compounds to `annual` over twelve months: (1 + annual)^(1/12) − 1.
pub fn monthly_discount_rate(annual: f64) -> f64 {
    (1.0 + annual).powf(1.0 / 12.0) - 1.0
}

/// Which method produced a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The fitted BG/NBD and Gamma-Gamma models.
    Model,
    /// The heuristic used before a store has enough data to fit ([`super::fallback`]).
    Fallback,
}

/// One customer's outlook. Money in major units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Probability the customer is still active.
    pub p_alive: f64,
    /// Expected purchases (purchase days) over the next twelve months, undiscounted.
    pub expected_purchases: f64,
    /// Expected spend per purchase.
    pub expected_spend: f64,
    /// Discounted value of the next twelve months' expected spend.
    pub clv: f64,
    /// How it was computed.
    pub method: Method,
}

impl Prediction {
    /// The probability the customer has churned: 1 − `p_alive`.
    pub fn churn_risk(&self) -> f64 {
        1.0 - self.p_alive
    }
}

/// A store's fitted models (BG/NBD with α in days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Models {
    /// Purchase and dropout process.
    pub purchases: BgNbdParams,
    /// Spend per purchase.
    pub spend: GammaGammaParams,
}

/// Sums `spend` × month m's purchases, discounted monthly at `annual_discount_rate`, given the
/// cumulative expected purchases `cumulative(days)`. Returns (undiscounted purchases, value).
pub(super) fn discounted_value(
    cumulative: impl Fn(f64) -> Option<f64>,
    spend: f64,
    annual_discount_rate: f64,
) -> Option<(f64, f64)> {
    let monthly = 1.0 + monthly_discount_rate(annual_discount_rate);
    let (mut before, mut value) = (0.0, 0.0);
    let mut factor = 1.0;
    for month in 1..=HORIZON_MONTHS {
        let upto = cumulative(DAYS_PER_MONTH * f64::from(month))?;
        factor /= monthly;
        value += (upto - before) * spend * factor;
        before = upto;
    }
    Some((before, value))
}

/// Predicts `summary`'s next twelve months from the fitted `models`. `None` when the models give
/// no finite answer (a Gamma-Gamma fit with q ≤ 1 for a customer without repeats, or a
/// non-converging series); callers then use [`super::fallback`].
pub fn predict(models: &Models, summary: &Summary, annual_discount_rate: f64) -> Option<Prediction> {
    let Summary { x, t_x, t, monetary, .. } = *summary;
    let bg = &models.purchases;
    let expected_spend = models.spend.conditional_expected_spend(x, monetary.unwrap_or(0.0))?;
    let (expected_purchases, clv) = discounted_value(
        |days| bg.expected_purchases(days, x, t_x, t),
        expected_spend,
        annual_discount_rate,
    )?;
    Some(Prediction {
        p_alive: bg.p_alive(x, t_x, t),
        expected_purchases,
        expected_spend,
        clv,
        method: Method::Model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CDNOW parameters, α converted from weeks to days.
    const MODELS: Models = Models {
        purchases: BgNbdParams { r: 0.243, alpha: 4.414 * 7.0, a: 0.793, b: 2.426 },
        spend: GammaGammaParams { p: 6.25, q: 3.74, v: 15.44 },
    };

    #[test]
    fn monthly_rate_compounds_to_the_annual_rate() {
        let d = monthly_discount_rate(DEFAULT_ANNUAL_DISCOUNT_RATE);
        assert!(((1.0 + d).powi(12) - 1.1).abs() < 1e-12);
        assert_eq!(monthly_discount_rate(0.0), 0.0);
    }

    #[test]
    fn undiscounted_value_is_purchases_times_spend() {
        let s = Summary { x: 2.0, t_x: 213.0, t: 272.0, monetary: Some(22.35), mean_all: 24.0 };
        let p = predict(&MODELS, &s, 0.0).expect("finite");
        let year = MODELS.purchases.expected_purchases(365.25, 2.0, 213.0, 272.0).expect("converges");
        assert!((p.expected_purchases - year).abs() < 1e-12);
        let spend = MODELS.spend.conditional_expected_spend(2.0, 22.35).expect("q > 1");
        assert!((p.clv - year * spend).abs() < 1e-9, "{p:?}");
        assert_eq!(p.method, Method::Model);
        assert!((p.churn_risk() - (1.0 - MODELS.purchases.p_alive(2.0, 213.0, 272.0))).abs() < 1e-15);
    }

    #[test]
    fn discounting_lowers_value_a_little() {
        let s = Summary { x: 5.0, t_x: 250.0, t: 272.0, monetary: Some(40.0), mean_all: 40.0 };
        let flat = predict(&MODELS, &s, 0.0).expect("finite");
        let discounted = predict(&MODELS, &s, DEFAULT_ANNUAL_DISCOUNT_RATE).expect("finite");
        assert!(discounted.clv < flat.clv && discounted.clv > flat.clv / 1.1, "{flat:?} {discounted:?}");
        assert_eq!(discounted.expected_purchases, flat.expected_purchases);
    }

    #[test]
    fn one_timers_get_the_population_spend() {
        let s = Summary { x: 0.0, t_x: 0.0, t: 100.0, monetary: None, mean_all: 500.0 };
        let p = predict(&MODELS, &s, DEFAULT_ANNUAL_DISCOUNT_RATE).expect("finite");
        assert_eq!(Some(p.expected_spend), MODELS.spend.population_mean());
        assert_eq!(p.p_alive, 1.0);
        assert!(p.clv > 0.0);
        let heavy = Models { spend: GammaGammaParams { q: 0.5, ..MODELS.spend }, ..MODELS };
        assert_eq!(predict(&heavy, &s, DEFAULT_ANNUAL_DISCOUNT_RATE), None);
    }
}
