//! A small box-bounded Nelder–Mead minimiser with restarts, used to fit both models by maximum
//! likelihood over log-parameters. Written here (about a hundred lines) rather than depending on
//! an optimisation framework: the problems have three or four dimensions and smooth objectives.
//!
//! Points are projected onto the box `[lower, upper]` in every coordinate; non-finite objective
//! values count as +∞. After the simplex collapses, the search restarts from the best point with
//! a fresh simplex until a restart no longer improves the value (guarding against the classic
//! false convergence of Nelder–Mead).

/// Settings for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Lower bound of every coordinate.
    pub lower: f64,
    /// Upper bound of every coordinate.
    pub upper: f64,
    /// Edge length of each fresh simplex.
    pub step: f64,
    /// Converged when the simplex values differ by at most `f_tol · (1 + |f_best|)` …
    pub f_tol: f64,
    /// … and every vertex is within `x_tol` of the best in every coordinate.
    pub x_tol: f64,
    /// Iterations allowed over all restarts together.
    pub max_iterations: usize,
    /// Restarts allowed after the first collapse.
    pub max_restarts: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            lower: -10.0,
            upper: 10.0,
            step: 0.5,
            // Log-likelihoods of large stores are ~10⁶: 1e-10 relative is 10⁻⁴ absolute, and
            // 1e-5 in a log-parameter is a relative precision of 10⁻⁵, far below the sampling
            // spread of any estimate; tighter settings only lengthen searches along ridges.
            f_tol: 1e-10,
            x_tol: 1e-5,
            max_iterations: 20_000,
            max_restarts: 10,
        }
    }
}

/// The best point found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Where.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// Iterations used, over all restarts.
    pub iterations: usize,
    /// Whether the last simplex collapsed and a restart no longer improved the value.
    pub converged: bool,
}

/// Minimises `f` from `start` within the box given by `options`.
pub fn minimize(f: impl Fn(&[f64]) -> f64, start: &[f64], options: &Options) -> Outcome {
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut best = project(start, options);
    let mut best_f = eval(&best);
    let mut iterations = 0;
    for _ in 0..=options.max_restarts {
        let (x, fx, used, collapsed) =
            run(&eval, &best, options, options.max_iterations.saturating_sub(iterations));
        iterations += used;
        let improved = best_f - fx > options.f_tol * (1.0 + fx.abs());
        if fx <= best_f {
            best = x;
            best_f = fx;
        }
        if !collapsed || iterations >= options.max_iterations {
            return Outcome { x: best, f: best_f, iterations, converged: false };
        }
        if !improved {
            return Outcome { x: best, f: best_f, iterations, converged: best_f.is_finite() };
        }
    }
    Outcome { x: best, f: best_f, iterations, converged: false }
}

fn project(x: &[f64], options: &Options) -> Vec<f64> {
    x.iter().map(|v| v.clamp(options.lower, options.upper)).collect()
}

/// Towards `to` from `from` by `t` (t = −1 reflects through `from`), projected onto the box.
fn along(from: &[f64], to: &[f64], t: f64, options: &Options) -> Vec<f64> {
    let p: Vec<f64> = from.iter().zip(to).map(|(f, w)| f + t * (w - f)).collect();
    project(&p, options)
}

/// One Nelder–Mead run: (best point, its value, iterations, whether the simplex collapsed).
fn run(
    eval: &impl Fn(&[f64]) -> f64,
    start: &[f64],
    options: &Options,
    budget: usize,
) -> (Vec<f64>, f64, usize, bool) {
    let n = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = vec![(start.to_vec(), eval(start))];
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] = if x[i] + options.step <= options.upper { x[i] + options.step } else { x[i] - options.step };
        let fx = eval(&x);
        simplex.push((x, fx));
    }
    for iteration in 0..budget {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (&simplex[0], &simplex[n]);
        let spread = worst.1 - best.1;
        let size = simplex[1..]
            .iter()
            .flat_map(|(x, _)| x.iter().zip(&best.0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if spread <= options.f_tol * (1.0 + best.1.abs()) && size <= options.x_tol {
            let (x, fx) = simplex.swap_remove(0);
            return (x, fx, iteration, true);
        }
        let mut centroid = vec![0.0; n];
        for (x, _) in &simplex[..n] {
            for (c, v) in centroid.iter_mut().zip(x) {
                *c += v / n as f64;
            }
        }
        let worst_x = simplex[n].0.clone();
        let (worst_f, second_f, best_f) = (simplex[n].1, simplex[n - 1].1, simplex[0].1);
        let reflected = along(&centroid, &worst_x, -1.0, options);
        let fr = eval(&reflected);
        if fr < best_f {
            let expanded = along(&centroid, &worst_x, -2.0, options);
            let fe = eval(&expanded);
            simplex[n] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < second_f {
            simplex[n] = (reflected, fr);
        } else {
            let (contracted, limit) = if fr < worst_f {
                (along(&centroid, &reflected, 0.5, options), fr)
            } else {
                (along(&centroid, &worst_x, 0.5, options), worst_f)
            };
            let fc = eval(&contracted);
            if fc < limit {
                simplex[n] = (contracted, fc);
            } else {
                let best_x = simplex[0].0.clone();
                for vertex in simplex.iter_mut().skip(1) {
                    vertex.0 = along(&best_x, &vertex.0, 0.5, options);
                    vertex.1 = eval(&vertex.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, fx) = simplex.swap_remove(0);
    (x, fx, budget, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let out = minimize(rosenbrock, &[-1.2, 1.0], &Options::default());
        assert!(out.converged, "{out:?}");
        assert!((out.x[0] - 1.0).abs() < 1e-5 && (out.x[1] - 1.0).abs() < 1e-5, "{out:?}");
    }

    #[test]
    fn stays_in_the_box() {
        let out = minimize(|x: &[f64]| (x[0] - 20.0).powi(2) + x[1] * x[1], &[0.0, 3.0], &Options::default());
        assert!((out.x[0] - 10.0).abs() < 1e-6 && out.x[1].abs() < 1e-5, "{out:?}");
    }

    #[test]
    fn treats_non_finite_values_as_infinite() {
        let f = |x: &[f64]| if x[0] < 0.0 { f64::NAN } else { (x[0] - 1.0).powi(2) };
        let out = minimize(f, &[2.0], &Options::default());
        assert!(out.converged && (out.x[0] - 1.0).abs() < 1e-6, "{out:?}");
    }
}
