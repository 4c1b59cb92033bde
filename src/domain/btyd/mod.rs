//! Customer-lifetime maths ("buy 'til you die" models): from a customer's order history, the
//! probability they are still a customer, how many purchases to expect from them, what they will
//! spend per purchase, and their twelve-month lifetime value. Pure functions on plain numbers:
//! the CRM summarises orders, fits a store's models, and scores its customers with them.
//!
//! - [`summary`]: orders → (x, t_x, T, repeat mean spend), in whole UTC days;
//! - [`bgnbd`]: the BG/NBD purchase and dropout model, its likelihood, fit and predictions;
//! - [`gamma_gamma`]: the Gamma-Gamma model of spend per purchase;
//! - [`clv`]: twelve-month discounted CLV from both; [`fallback`]: rules of thumb for stores
//!   with too little history to fit, returning the same [`Prediction`];
//! - [`special`]: ln Γ and ₂F₁; `fit` and `nelder_mead`: maximum likelihood.
//!
//! References:
//! - P. S. Fader, B. G. S. Hardie & K. L. Lee (2005), "Counting Your Customers" the Easy Way: An
//!   Alternative to the Pareto/NBD Model, *Marketing Science* 24(2), 275–284.
//! - P. S. Fader & B. G. S. Hardie (2013), The Gamma-Gamma Model of Monetary Value,
//!   <http://brucehardie.com/notes/025/>.
//!
//! Checked against the CDNOW sample those papers fit (`tests/fixtures/CDNOW_sample.txt`).

pub mod bgnbd;
pub mod clv;
pub mod fallback;
mod fit;
pub mod gamma_gamma;
mod nelder_mead;
pub mod special;
pub mod summary;

#[cfg(test)]
mod cdnow_tests;
#[cfg(test)]
mod simulation_tests;

pub use bgnbd::BgNbdParams;
pub use clv::{DEFAULT_ANNUAL_DISCOUNT_RATE, Method, Models, Prediction, predict};
pub use fallback::{FallbackOptions, enough_data, predict_fallback, predict_or_fallback};
pub use fit::{FitResult, LOG_PARAM_BOUND};
pub use gamma_gamma::GammaGammaParams;
pub use summary::{Order, Summary, summarize};
