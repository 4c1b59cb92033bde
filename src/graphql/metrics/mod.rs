//! Metrics (SPEC §7): `Customer.metrics`, the store's `metricsModel` and `refitMetricsModel`.

pub mod model;
pub mod types;

use crate::db::metrics::ModelRow;
use crate::domain::btyd::{BgNbdParams, GammaGammaParams, Models};

/// The models a stored fit provides, when both parts converged.
pub fn models_of(row: &ModelRow) -> Option<Models> {
    if !(row.bgnbd_converged && row.gamma_gamma_converged) {
        return None;
    }
    Some(Models {
        purchases: BgNbdParams { r: row.bgnbd_r?, alpha: row.bgnbd_alpha?, a: row.bgnbd_a?, b: row.bgnbd_b? },
        spend: GammaGammaParams { p: row.gamma_gamma_p?, q: row.gamma_gamma_q?, v: row.gamma_gamma_v? },
    })
}
