//! Segments: a rule language over customers (`{field, operator, value}` rules combined with
//! `match: ALL | ANY`, nested groups), validated once at the edge and evaluated either in SQL
//! (`db::segment_sql`) or in memory (`eval`, the reference the SQL is tested against).
//!
//! Missing values: a rule on a value the customer does not have (no order yet, no default
//! address, no such metadata key) is false, except for the negative operators `neq`, `not_in`
//! and `not_contains`, which hold for a missing value ("country is not US" includes customers
//! without a country), and `not_exists`.

pub mod eval;
pub mod fields;
pub mod rules;
pub mod time;

pub use fields::{Field, Kind};
pub use rules::{Match, Operator, Rule, RuleGroup, RuleValue};

use super::btyd::Models;
use super::rfm::Breakpoints;

/// What metric-based rules (churn risk, RFM) are evaluated against: the store's breakpoints and
/// fitted models, exactly as `Customer.metrics` uses them.
#[derive(Debug, Clone, Default)]
pub struct MetricsContext {
    pub breakpoints: Option<Breakpoints>,
    pub models: Option<Models>,
}
