//! The two special functions the models need and `std` lacks: ln Γ (every likelihood) and the
//! Gauss hypergeometric function ₂F₁ (the BG/NBD conditional expectation). Written here rather
//! than pulled in from a numerics crate: two small, tested functions keep the dependency tree as
//! it is.

use std::f64::consts::PI;

/// Lanczos coefficients for g = 7, n = 9 (relative error about 1e-15 for positive arguments).
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln |Γ(x)| by the Lanczos approximation, with the reflection formula below ½.
/// `+∞` at the poles (0, −1, −2, …); `NaN` for `NaN`.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::INFINITY;
    }
    if x < 0.5 {
        // Γ(x) Γ(1 − x) = π / sin(πx)
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + LANCZOS_G + 0.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Relative tolerance at which the ₂F₁ series stops (bound on the tail over the sum).
pub const HYP2F1_TOLERANCE: f64 = 1e-15;
/// The most ₂F₁ series terms summed before giving up.
pub const HYP2F1_MAX_TERMS: usize = 1_000_000;

/// The Gauss hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1, summed as its power series
/// Σₙ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ.
///
/// Stops once a bound on the remaining tail falls below [`HYP2F1_TOLERANCE`] times the sum.
/// `None` when z is outside [0, 1), c is a pole (0, −1, −2, …), an input is not finite, or the
/// series has not converged within [`HYP2F1_MAX_TERMS`] terms (z very close to 1).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if ![a, b, c, z].iter().all(|v| v.is_finite()) || !(0.0..1.0).contains(&z) {
        return None;
    }
    if c <= 0.0 && c == c.floor() {
        return None;
    }
    // Past this index every factor of the term ratio is positive, and the ratio approaches z
    // monotonically, so max(ratio, z) bounds all later ratios.
    let settled = [0.0, -a, -b, -c].into_iter().fold(0.0, f64::max).ceil() as usize + 1;
    let mut sum = 1.0;
    let mut term = 1.0;
    for n in 0..HYP2F1_MAX_TERMS {
        let k = n as f64;
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 {
            return Some(sum); // a or b is a non-positive integer: a polynomial
        }
        if n >= settled {
            let k = k + 1.0;
            let next = ((a + k) * (b + k) / ((c + k) * (k + 1.0)) * z).abs().max(z);
            if next < 1.0 && term.abs() * next / (1.0 - next) <= HYP2F1_TOLERANCE * sum.abs() {
                return sum.is_finite().then_some(sum);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
        assert!(close(ln_gamma(0.5), 0.5 * PI.ln(), 1e-14));
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-14));
        // mpmath.loggamma
        assert!(close(ln_gamma(0.243), 1.318_043_584_699_669_9, 1e-13));
        assert!(close(ln_gamma(1e-3), 6.907_178_885_383_853, 1e-13));
        assert!(close(ln_gamma(171.5), 709.143_163_030_928_2, 1e-13));
        assert!(close(ln_gamma(1e5), 1_051_287.708_973_656_9, 1e-13));
        assert!(close(ln_gamma(-0.5), (2.0 * PI.sqrt()).ln(), 1e-13));
        assert_eq!(ln_gamma(0.0), f64::INFINITY);
        assert_eq!(ln_gamma(-3.0), f64::INFINITY);
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
        for z in [0.01, 0.3, 0.9, 0.999] {
            let want = -(1.0_f64 - z).ln() / z;
            assert!(close(hyp2f1(1.0, 1.0, 2.0, z).expect("converges"), want, 1e-12), "z = {z}");
        }
        // ₂F₁(a, b; b; z) = (1 − z)^(−a)
        assert!(close(hyp2f1(2.5, 1.5, 1.5, 0.7).expect("converges"), 0.3f64.powf(-2.5), 1e-12));
        // polynomial: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1))
        let want = 1.0 - 2.0 * 3.0 * 0.5 / 4.0 + 3.0 * 4.0 * 0.25 / 20.0;
        assert!(close(hyp2f1(-2.0, 3.0, 4.0, 0.5).expect("terminates"), want, 1e-15));
        assert_eq!(hyp2f1(1.0, 2.0, 3.0, 0.0), Some(1.0));
    }

    #[test]
    fn hyp2f1_matches_mpmath() {
        // mpmath.hyp2f1 at 30 digits
        let cases = [
            (0.243, 2.426, 2.219, 0.5, 1.207_097_007_044_042_3),
            (2.243, 4.426, 5.219, 0.5013, 3.631_737_616_120_859),
            (2.449, -0.207, 5.219, 0.5013, 0.944_630_458_570_763),
            (12.5, 30.0, 40.5, 0.95, 636_326_360.536_472_9),
            (0.5, 0.5, 1.5, 0.999_9, 1.560_874_205_782_209_5),
        ];
        for (a, b, c, z, want) in cases {
            let got = hyp2f1(a, b, c, z).expect("converges");
            assert!(close(got, want, 1e-11), "2F1({a}, {b}; {c}; {z}) = {got}, want {want}");
        }
    }

    #[test]
    fn hyp2f1_refuses_what_it_cannot_sum() {
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, -0.1), None);
        assert_eq!(hyp2f1(1.0, 1.0, -2.0, 0.5), None);
        assert_eq!(hyp2f1(f64::NAN, 1.0, 2.0, 0.5), None);
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0 - 1e-12), None);
    }
}
