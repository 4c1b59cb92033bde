//! Maximum-likelihood fitting shared by both models: maximise a log-likelihood over the logs of
//! the (positive) parameters, from several starting points, keeping the best.

use super::nelder_mead::{self, Options};

/// Bound on every log-parameter during a fit: parameters stay within [e⁻¹⁰, e¹⁰].
pub const LOG_PARAM_BOUND: f64 = 10.0;

/// The outcome of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitResult<P> {
    /// The maximum-likelihood parameters.
    pub params: P,
    /// The total log-likelihood at `params`.
    pub log_likelihood: f64,
    /// Optimiser iterations used, over all starts and restarts.
    pub iterations: usize,
    /// Whether the best start's search converged (rather than running out of iterations).
    pub converged: bool,
}

/// Maximises `log_likelihood` (a function of the parameters themselves) over log-parameters
/// from each of `starts` (parameters, not logs). `None` when no start reaches a finite value.
pub(super) fn maximize<const N: usize>(
    log_likelihood: impl Fn([f64; N]) -> f64,
    starts: &[[f64; N]],
) -> Option<FitResult<[f64; N]>> {
    let options = Options { lower: -LOG_PARAM_BOUND, upper: LOG_PARAM_BOUND, ..Options::default() };
    let objective = |logs: &[f64]| {
        let mut params = [0.0; N];
        for (p, l) in params.iter_mut().zip(logs) {
            *p = l.exp();
        }
        -log_likelihood(params)
    };
    let mut best: Option<FitResult<[f64; N]>> = None;
    let mut iterations = 0;
    for start in starts {
        let logs: Vec<f64> = start.iter().map(|p| p.ln()).collect();
        let out = nelder_mead::minimize(objective, &logs, &options);
        iterations += out.iterations;
        if !out.f.is_finite() || best.as_ref().is_some_and(|b| -out.f <= b.log_likelihood) {
            continue;
        }
        let mut params = [0.0; N];
        for (p, l) in params.iter_mut().zip(&out.x) {
            *p = l.exp();
        }
        best = Some(FitResult { params, log_likelihood: -out.f, iterations: 0, converged: out.converged });
    }
    best.map(|b| FitResult { iterations, ..b })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_start_and_counts_all_iterations() {
        // log-likelihood peaking at (2, 0.5)
        let ll = |p: [f64; 2]| -((p[0] - 2.0).powi(2) + (p[1] - 0.5).powi(2));
        let fit = maximize(ll, &[[1.0, 1.0], [10.0, 0.01]]).expect("finite");
        assert!(fit.converged);
        assert!((fit.params[0] - 2.0).abs() < 1e-6 && (fit.params[1] - 0.5).abs() < 1e-6, "{fit:?}");
        assert!(fit.iterations > 0);
    }

    #[test]
    fn nothing_finite_is_no_fit() {
        assert_eq!(maximize(|_: [f64; 1]| f64::NAN, &[[1.0]]), None);
    }
}
