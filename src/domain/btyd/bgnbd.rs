//! The BG/NBD model (Fader, Hardie & Lee 2005): while alive a customer buys as a Poisson process
//! with rate λ ~ Gamma(r, α); after each repeat purchase they drop out for good with probability
//! p ~ Beta(a, b). It answers "is this customer still alive?" and "how many purchases next?".
//!
//! Time is in whatever unit the inputs use; this crate's summaries use days, so `alpha` is in
//! days (divide by 7 to compare with the weekly CDNOW parameters in the paper).

use super::fit::{FitResult, maximize};
use super::special::{hyp2f1, ln_gamma};
use super::summary::Summary;

/// BG/NBD parameters: λ ~ Gamma(shape `r`, rate `alpha`), p ~ Beta(`a`, `b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Rate (scale of time) of the purchase-rate distribution, in the inputs' time unit.
    pub alpha: f64,
    /// Dropout Beta distribution, first shape.
    pub a: f64,
    /// Dropout Beta distribution, second shape.
    pub b: f64,
}

/// How close `a` may come to 1 before the expectations (which divide by a − 1) are taken as the
/// mean of their values at 1 ± twice this offset (their limit at a = 1, to about its square).
const A_NEAR_ONE: f64 = 1e-4;

impl BgNbdParams {
    /// A customer's log-likelihood for x repeat purchases, recency `t_x` and age `t`: ln of
    /// FHL (2005)'s A₁·A₂·(A₃ + δ(x>0)·A₄), the last sum taken in log space.
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.log_likelihood_given(self.count_terms(x), x, (self.alpha + t_x).ln(), (self.alpha + t).ln())
    }

    /// The parts of the log-likelihood that depend on x alone (all the ln Γ calls): the
    /// constant ln[Γ(r+x) α^r / Γ(r) · B(a, b+x) / B(a, b)] and ln[a / (b+x−1)].
    fn count_terms(&self, x: f64) -> (f64, f64) {
        let Self { r, alpha, a, b } = *self;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        (a1 + a2, a.ln() - (b + x - 1.0).ln())
    }

    /// The log-likelihood from [`Self::count_terms`]`(x)`, ln(α + t_x) and ln(α + t).
    fn log_likelihood_given(&self, (constant, dropout): (f64, f64), x: f64, ln_alpha_t_x: f64, ln_alpha_t: f64) -> f64 {
        let alive = -(self.r + x) * ln_alpha_t;
        if x <= 0.0 {
            return constant + alive;
        }
        let gone = dropout - (self.r + x) * ln_alpha_t_x;
        // ln(e^alive + e^gone) with one exp
        constant + alive.max(gone) + (-(alive - gone).abs()).exp().ln_1p()
    }

    /// The probability that the customer is still alive at age `t` (Fader, Hardie & Lee,
    /// "Computing P(alive) Using the BG/NBD Model"): 1 / (1 + δ(x>0) · a/(b+x−1) ·
    /// ((α+T)/(α+t_x))^(r+x)). Always 1 for x = 0: dropout happens only after a repeat purchase.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        let Self { r, alpha, a, b } = *self;
        let log_odds = a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + t).ln() - (alpha + t_x).ln());
        1.0 / (1.0 + log_odds.exp())
    }

    /// Expected purchases in the next `horizon` time units for a customer with history
    /// (x, t_x, t): FHL (2005) eq. 10. `None` if the ₂F₁ series does not converge (horizon
    /// astronomically long compared with α + t).
    ///
    /// Computed through Euler's transformation, (1−z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z) =
    /// (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z) with z = horizon/(α+t+horizon), whose series
    /// converges fast and never overflows however large x is.
    pub fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        if horizon <= 0.0 {
            return Some(0.0);
        }
        if (self.a - 1.0).abs() < A_NEAR_ONE {
            let at = |a| Self { a, ..*self }.expected_purchases(horizon, x, t_x, t);
            return Some((at(1.0 - 2.0 * A_NEAR_ONE)? + at(1.0 + 2.0 * A_NEAR_ONE)?) / 2.0);
        }
        let Self { r, alpha, a, b } = *self;
        let z = horizon / (alpha + t + horizon);
        let tail = (1.0 - z).powf(a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)?;
        let value = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail) * self.p_alive(x, t_x, t);
        value.is_finite().then_some(value.max(0.0))
    }

    /// Expected purchases in `horizon` time units by a customer just acquired, not yet observed
    /// (FHL 2005 eq. 9: the repeat purchases of someone who made a first purchase at time 0).
    pub fn expected_purchases_new(&self, horizon: f64) -> Option<f64> {
        self.expected_purchases(horizon, 0.0, 0.0, 0.0)
    }
}

/// The total log-likelihood of `summaries` under `params`.
pub fn total_log_likelihood(params: &BgNbdParams, summaries: &[Summary]) -> f64 {
    summaries.iter().map(|s| params.log_likelihood(s.x, s.t_x, s.t)).sum()
}

/// The fitting data: customers with the same (x, t_x, T) contribute the same term, so each
/// distinct history is summed once with its weight; times are indexes into the distinct time
/// values, so an evaluation takes ln(α + time) once per distinct time rather than twice per
/// history (summaries in whole days have a few hundred distinct times, however many customers).
struct Histories {
    /// (x, index of t_x, index of T, weight), sorted by x.
    groups: Vec<(f64, u32, u32, f64)>,
    /// The distinct times, ascending.
    times: Vec<f64>,
}

impl Histories {
    fn of(summaries: &[Summary]) -> Self {
        let mut keys: Vec<(f64, f64, f64)> = summaries
            .iter()
            .filter(|s| s.x >= 0.0 && s.t_x >= 0.0 && s.t >= s.t_x && s.t.is_finite())
            .map(|s| (s.x, s.t_x, s.t))
            .collect();
        keys.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)).then(p.2.total_cmp(&q.2)));
        let mut times: Vec<f64> = keys.iter().flat_map(|&(_, t_x, t)| [t_x, t]).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let index = |v: f64| times.binary_search_by(|p| p.total_cmp(&v)).unwrap_or_default() as u32;
        let mut groups: Vec<(f64, u32, u32, f64)> = Vec::new();
        for (x, t_x, t) in keys {
            let (i_x, i) = (index(t_x), index(t));
            match groups.last_mut() {
                Some(last) if (last.0, last.1, last.2) == (x, i_x, i) => last.3 += 1.0,
                _ => groups.push((x, i_x, i, 1.0)),
            }
        }
        Self { groups, times }
    }

    /// The total log-likelihood under `params`; `ln_alpha_plus` is scratch space.
    fn log_likelihood(&self, params: &BgNbdParams, ln_alpha_plus: &mut Vec<f64>) -> f64 {
        ln_alpha_plus.clear();
        ln_alpha_plus.extend(self.times.iter().map(|t| (params.alpha + t).ln()));
        // groups are sorted by x: the ln Γ terms are computed once per distinct x
        let mut counts = (f64::NAN, (0.0, 0.0));
        let mut total = 0.0;
        for &(x, i_x, i, w) in &self.groups {
            if counts.0 != x {
                counts = (x, params.count_terms(x));
            }
            let ln_at = |index: u32| ln_alpha_plus[index as usize];
            total += w * params.log_likelihood_given(counts.1, x, ln_at(i_x), ln_at(i));
        }
        total
    }
}

/// Fits the BG/NBD model to `summaries` by maximum likelihood (Nelder–Mead over the logs of
/// r, α, a, b, each log bounded to ±[`LOG_PARAM_BOUND`](super::LOG_PARAM_BOUND), from
/// three starting points). Summaries that are not histories (negative or inconsistent times)
/// are skipped. `None` without usable summaries.
pub fn fit(summaries: &[Summary]) -> Option<FitResult<BgNbdParams>> {
    let histories = Histories::of(summaries);
    let n: f64 = histories.groups.iter().map(|g| g.3).sum();
    if n == 0.0 {
        return None;
    }
    let mean_x = histories.groups.iter().map(|g| g.0 * g.3).sum::<f64>() / n;
    let mean_t = histories.groups.iter().map(|g| histories.times[g.2 as usize] * g.3).sum::<f64>() / n;
    // r/α is the mean purchase rate: start from the observed one.
    let rate = (mean_x / mean_t.max(1.0)).max(1e-3);
    let starts = [[1.0, 1.0 / rate, 1.0, 1.0], [0.5, 0.5 / rate, 0.5, 2.0], [1.0, mean_t.max(1.0), 1.0, 1.0]];
    let scratch = std::cell::RefCell::new(Vec::with_capacity(histories.times.len()));
    let ll = |[r, alpha, a, b]: [f64; 4]| {
        histories.log_likelihood(&BgNbdParams { r, alpha, a, b }, &mut scratch.borrow_mut())
    };
    let fit = maximize(ll, &starts)?;
    let [r, alpha, a, b] = fit.params;
    Some(FitResult {
        params: BgNbdParams { r, alpha, a, b },
        log_likelihood: fit.log_likelihood,
        iterations: fit.iterations,
        converged: fit.converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CDNOW parameters of FHL (2005), in weeks.
    const PAPER: BgNbdParams = BgNbdParams { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

    #[test]
    fn paper_example_expects_1_226_purchases_in_39_weeks() {
        let e = PAPER.expected_purchases(39.0, 2.0, 30.43, 38.86).expect("converges");
        assert!((e / 1.226 - 1.0).abs() < 0.005, "got {e}");
    }

    #[test]
    fn p_alive_is_a_probability_and_certain_without_repeats() {
        let p = PAPER.p_alive(2.0, 30.43, 38.86);
        assert!(p > 0.0 && p <= 1.0, "{p}");
        assert_eq!(PAPER.p_alive(0.0, 0.0, 38.86), 1.0);
        // long silence after frequent buying: probably gone
        assert!(PAPER.p_alive(10.0, 5.0, 38.86) < 0.01);
        // bought recently: more likely alive than after the same history and a long silence
        assert!(PAPER.p_alive(2.0, 38.0, 38.86) > p);
    }

    #[test]
    fn expectations_grow_with_the_horizon_and_are_continuous_at_a_equal_one() {
        let mut last = 0.0;
        for weeks in [1.0, 10.0, 52.0, 520.0] {
            let e = PAPER.expected_purchases(weeks, 2.0, 30.43, 38.86).expect("converges");
            assert!(e > last, "{weeks}: {e}");
            last = e;
        }
        let near = |a| BgNbdParams { a, ..PAPER }.expected_purchases(39.0, 3.0, 20.0, 30.0);
        let (below, at, above) = (near(0.999).expect("a"), near(1.0).expect("a"), near(1.001).expect("a"));
        // the limit at a = 1, in mpmath: 1.6339057746 (0.999 → 1.6349566, 1.001 → 1.6328561)
        assert!((at - 1.633_905_774_6).abs() < 1e-7, "{at}");
        assert!((below - 1.634_956_582_8).abs() < 1e-9 && (above - 1.632_856_055_9).abs() < 1e-9);
        assert_eq!(PAPER.expected_purchases(0.0, 1.0, 1.0, 2.0), Some(0.0));
    }

    #[test]
    fn a_new_customer_is_a_customer_with_no_history() {
        // FHL eq. 9 at t = 39 weeks, in mpmath at 30 digits: 1.1967231933208168
        let e = PAPER.expected_purchases_new(39.0).expect("converges");
        assert!((e - 1.196_723_193_320_817).abs() < 1e-10, "{e}");
        let direct = {
            let BgNbdParams { r, alpha, a, b } = PAPER;
            let f = hyp2f1(r, b, a + b - 1.0, 39.0 / (alpha + 39.0)).expect("converges");
            (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + 39.0)).powf(r) * f)
        };
        assert!((e - direct).abs() < 1e-10, "{e} vs {direct}");
    }

    #[test]
    fn matches_mpmath_at_the_paper_example() {
        // FHL eqs. 6, 10 and p_alive in mpmath at 30 digits
        let ll = PAPER.log_likelihood(2.0, 30.43, 38.86);
        assert!((ll - -9.458_606_307_066_27).abs() < 1e-11, "{ll}");
        let p = PAPER.p_alive(2.0, 30.43, 38.86);
        assert!((p - 0.726_578_570_080_673).abs() < 1e-13, "{p}");
        let e = PAPER.expected_purchases(39.0, 2.0, 30.43, 38.86).expect("converges");
        assert!((e - 1.226_028_174_767_144_4).abs() < 1e-11, "{e}");
    }

    #[test]
    fn fits_whatever_it_is_given_without_panicking() {
        assert_eq!(fit(&[]), None);
        let s = |x: f64, t_x: f64, t: f64| Summary { x, t_x, t, monetary: None, mean_all: 1.0 };
        assert_eq!(fit(&[s(f64::NAN, 0.0, 1.0), s(1.0, 5.0, 2.0)]), None, "no usable history");
        let one_timers = fit(&[s(0.0, 0.0, 10.0), s(0.0, 0.0, 30.0)]).expect("fit");
        assert!(one_timers.log_likelihood.is_finite() && one_timers.log_likelihood <= 0.0);
        let tiny = fit(&[s(0.0, 0.0, 10.0), s(3.0, 20.0, 30.0), s(1.0, 2.0, 40.0)]).expect("fit");
        let BgNbdParams { r, alpha, a, b } = tiny.params;
        assert!([r, alpha, a, b].iter().all(|v| v.is_finite() && *v > 0.0), "{tiny:?}");
    }

    #[test]
    fn without_repeats_only_the_alive_term_counts() {
        let BgNbdParams { r, alpha, .. } = PAPER;
        let want = r * alpha.ln() - r * (alpha + 30.0).ln();
        assert!((PAPER.log_likelihood(0.0, 0.0, 30.0) - want).abs() < 1e-12);
        assert_eq!(total_log_likelihood(&PAPER, &[]), 0.0);
    }
}
