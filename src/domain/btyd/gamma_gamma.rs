//! The Gamma-Gamma model of spend per purchase (Fader & Hardie 2013): a customer's purchase
//! amounts are Gamma(p, ν) around their own mean, with ν ~ Gamma(q, v) across customers. It
//! turns a customer's few observed amounts into a shrunk estimate of what they will spend per
//! purchase, pulled towards the population mean the less they have bought.
//!
//! It is fitted on customers with at least one repeat purchase, with x = repeat purchases and
//! m̄ = their mean spend per repeat purchase day (see [`summary`](super::summary)).

use super::fit::{FitResult, maximize};
use super::special::ln_gamma;
use super::summary::Summary;

/// Gamma-Gamma parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGammaParams {
    /// Shape of each purchase amount's Gamma distribution.
    pub p: f64,
    /// Shape of the Gamma distribution of the customers' rate parameters ν.
    pub q: f64,
    /// Scale of that distribution (γ in Fader & Hardie), in money's major units.
    pub v: f64,
}

impl GammaGammaParams {
    /// The log-density of observing mean spend `mean` over `x` purchases (Fader & Hardie 2013):
    /// Γ(px+q)/(Γ(px)Γ(q)) · v^q · m̄^(px−1) · x^(px) / (v + x·m̄)^(px+q).
    /// `-∞`/`NaN` outside x ≥ 1, mean > 0.
    pub fn log_likelihood(&self, x: f64, mean: f64) -> f64 {
        self.log_likelihood_given(self.count_term(x), x, mean)
    }

    /// The part of the log-density that depends on x alone: ln[Γ(px+q) / (Γ(px) Γ(q))].
    fn count_term(&self, x: f64) -> f64 {
        let px = self.p * x;
        ln_gamma(px + self.q) - ln_gamma(px) - ln_gamma(self.q)
    }

    /// The log-density from [`Self::count_term`]`(x)`.
    fn log_likelihood_given(&self, count: f64, x: f64, mean: f64) -> f64 {
        let Self { p, q, v } = *self;
        let px = p * x;
        count + q * v.ln() + (px - 1.0) * mean.ln() + px * x.ln() - (px + q) * (x * mean + v).ln()
    }

    /// The expected spend per purchase of a customer with `x` repeat purchases averaging
    /// `mean`: E[M | x, m̄] = (v + x·m̄)·p / (p·x + q − 1), a weighted average of the population
    /// mean v·p/(q − 1) and m̄. With x = 0 that is the population mean (`mean` is unused).
    /// `None` when the denominator is not positive (q ≤ 1 and x = 0: no finite mean).
    pub fn conditional_expected_spend(&self, x: f64, mean: f64) -> Option<f64> {
        let Self { p, q, v } = *self;
        let x = x.max(0.0);
        let denominator = p * x + q - 1.0;
        let value = (v + x * mean) * p / denominator;
        (denominator > 0.0 && value.is_finite()).then_some(value)
    }

    /// The population mean spend per purchase, v·p/(q − 1); `None` when q ≤ 1.
    pub fn population_mean(&self) -> Option<f64> {
        self.conditional_expected_spend(0.0, 0.0)
    }
}

/// The (x, m̄) pairs the model is fitted on, sorted by x: x ≥ 1 and a positive finite mean.
fn usable(summaries: &[Summary]) -> Vec<(f64, f64)> {
    let mut data: Vec<(f64, f64)> = summaries
        .iter()
        .filter(|s| s.x >= 1.0 && s.x.is_finite())
        .filter_map(|s| s.monetary.filter(|m| m.is_finite() && *m > 0.0).map(|m| (s.x, m)))
        .collect();
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    data
}

/// The total log-likelihood of the usable customers in `summaries` (x ≥ 1, positive mean).
pub fn total_log_likelihood(params: &GammaGammaParams, summaries: &[Summary]) -> f64 {
    usable(summaries).iter().map(|&(x, m)| params.log_likelihood(x, m)).sum()
}

/// Fits the Gamma-Gamma model by maximum likelihood (Nelder–Mead over log p, log q, log v, each
/// bounded to ±[`LOG_PARAM_BOUND`](super::LOG_PARAM_BOUND), three starts) on the customers
/// with x ≥ 1 and a positive repeat mean spend; others are skipped. `None` without any.
pub fn fit(summaries: &[Summary]) -> Option<FitResult<GammaGammaParams>> {
    let data = usable(summaries);
    if data.is_empty() {
        return None;
    }
    let mean = data.iter().map(|d| d.1).sum::<f64>() / data.len() as f64;
    // p·v/(q − 1) is the population mean: each start matches it.
    let starts = [[1.0, 2.0, mean], [5.0, 4.0, 0.6 * mean], [2.0, 10.0, 4.5 * mean]];
    let ll = |[p, q, v]: [f64; 3]| {
        let params = GammaGammaParams { p, q, v };
        // data are sorted by x: the ln Γ terms are computed once per distinct x
        let mut count = (f64::NAN, 0.0);
        let mut total = 0.0;
        for &(x, m) in &data {
            if count.0 != x {
                count = (x, params.count_term(x));
            }
            total += params.log_likelihood_given(count.1, x, m);
        }
        total
    };
    let fit = maximize(ll, &starts)?;
    let [p, q, v] = fit.params;
    Some(FitResult {
        params: GammaGammaParams { p, q, v },
        log_likelihood: fit.log_likelihood,
        iterations: fit.iterations,
        converged: fit.converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fader & Hardie's CDNOW parameters.
    const PAPER: GammaGammaParams = GammaGammaParams { p: 6.25, q: 3.74, v: 15.44 };

    #[test]
    fn expected_spend_shrinks_towards_the_population_mean() {
        let population = PAPER.population_mean().expect("q > 1");
        assert!((population - 6.25 * 15.44 / 2.74).abs() < 1e-12);
        assert_eq!(PAPER.conditional_expected_spend(0.0, 999.0), Some(population));
        let one = PAPER.conditional_expected_spend(1.0, 100.0).expect("finite");
        let ten = PAPER.conditional_expected_spend(10.0, 100.0).expect("finite");
        assert!(population < one && one < ten && ten < 100.0, "{population} {one} {ten}");
        let want = (15.44 + 100.0) * 6.25 / (6.25 + 3.74 - 1.0);
        assert!((one - want).abs() < 1e-12);
    }

    #[test]
    fn no_finite_mean_without_q_above_one() {
        let heavy = GammaGammaParams { q: 0.9, ..PAPER };
        assert_eq!(heavy.population_mean(), None);
        assert!(heavy.conditional_expected_spend(2.0, 10.0).is_some());
    }

    #[test]
    fn density_integrates_to_one() {
        // ∫ f(m̄ | x = 3) dm̄ by the midpoint rule on a fine grid
        let (x, step) = (3.0, 0.01);
        let total: f64 = (0..100_000)
            .map(|i| (i as f64 + 0.5) * step)
            .map(|m| PAPER.log_likelihood(x, m).exp() * step)
            .sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
    }

    #[test]
    fn fits_only_customers_with_repeats_and_positive_spend() {
        let s = |x: f64, monetary: Option<f64>| Summary { x, t_x: x, t: 10.0, monetary, mean_all: 1.0 };
        let summaries = [s(0.0, None), s(1.0, Some(0.0)), s(2.0, Some(10.0)), s(1.0, Some(-5.0))];
        let ll = total_log_likelihood(&PAPER, &summaries);
        assert_eq!(ll, PAPER.log_likelihood(2.0, 10.0));
        assert_eq!(fit(&summaries[..2]), None);
    }
}
