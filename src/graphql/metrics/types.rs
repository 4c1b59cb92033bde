//! `CustomerMetrics` and `RfmScores`.

use crate::db::customers::CustomerRow;
use crate::domain::btyd::Method;
use crate::domain::metrics::{CustomerMetrics as Computed, OrderStats, compute};
use crate::domain::money::Money;
use crate::db::metrics::StoreMetricsState;
use crate::graphql::scalars::Timestamp;
use async_graphql::{Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};

/// How churn risk and predicted value were computed.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsMethod {
    /// The store's fitted BG/NBD and Gamma-Gamma models.
    Model,
    /// The documented fallback, used before the store has enough data for a fit.
    Fallback,
}

/// Recency, frequency and monetary scores: 1–5 quintiles among the store's customers with at
/// least one order.
#[derive(SimpleObject, Debug, Clone)]
pub struct RfmScores {
    /// 5 for the most recent buyers.
    pub recency_score: i32,
    /// 5 for the most orders.
    pub frequency_score: i32,
    /// 5 for the most spent.
    pub monetary_score: i32,
    /// The R × F segment: champion, loyal, potential_loyalist, new, promising, need_attention,
    /// about_to_sleep, at_risk, cant_lose or hibernating.
    pub segment: String,
}

/// A customer's metrics, computed when read: they reflect every order recorded so far.
pub struct CustomerMetrics {
    stats: OrderStats,
    computed: Computed,
    computed_at: DateTime<Utc>,
}

impl CustomerMetrics {
    /// Computes a customer's metrics from its row and the store's metrics state.
    pub fn new(row: &CustomerRow, state: &StoreMetricsState) -> Self {
        let stats = row.order_stats();
        let now = Utc::now();
        let models = state.model.as_ref().and_then(crate::db::metrics::ModelRow::models);
        Self { computed: compute(&stats, state.breakpoints.as_ref(), models.as_ref(), now), stats, computed_at: now }
    }
}

/// A customer's metrics, computed when read: they reflect every order recorded so far.
#[Object]
impl CustomerMetrics {
    /// RFM scores and segment; null without orders.
    async fn rfm(&self) -> Option<RfmScores> {
        self.computed.rfm.map(|s| RfmScores {
            recency_score: i32::from(s.recency),
            frequency_score: i32::from(s.frequency),
            monetary_score: i32::from(s.monetary),
            segment: s.segment.name().to_owned(),
        })
    }
    /// Lifetime value so far: the total spent.
    async fn lifetime_value(&self) -> f64 {
        Money(self.stats.total_spent).as_major()
    }
    /// Total spent divided by the number of orders; null without orders.
    async fn average_order_value(&self) -> Option<f64> {
        self.computed.average_order_value.map(|v| (v * 100.0).round() / 100.0)
    }
    /// Number of orders.
    async fn total_orders(&self) -> i32 {
        self.stats.total_orders
    }
    /// Sum of all orders.
    async fn total_spent(&self) -> f64 {
        Money(self.stats.total_spent).as_major()
    }
    /// Mean days between consecutive orders; null under two orders.
    async fn purchase_frequency_days(&self) -> Option<f64> {
        self.computed.purchase_frequency_days
    }
    /// Probability the customer has stopped buying (1 − P(alive) under BG/NBD); null without
    /// orders.
    async fn churn_risk(&self) -> Option<f64> {
        self.computed.prediction.map(|p| p.churn_risk())
    }
    /// Expected spend over the next 12 months (BG/NBD purchases × Gamma-Gamma spend, discounted
    /// monthly at 10% a year); null without orders.
    async fn predicted_lifetime_value(&self) -> Option<f64> {
        self.computed.prediction.map(|p| (p.clv * 100.0).round() / 100.0)
    }
    /// Expected purchase days over the next 12 months; null without orders.
    async fn expected_purchases_next_12_months(&self) -> Option<f64> {
        self.computed.prediction.map(|p| p.expected_purchases)
    }
    /// Which method produced churn risk and predicted value; null without orders.
    async fn method(&self) -> Option<MetricsMethod> {
        self.computed.prediction.map(|p| match p.method {
            Method::Model => MetricsMethod::Model,
            Method::Fallback => MetricsMethod::Fallback,
        })
    }
    /// When the first order was placed.
    async fn first_order_at(&self) -> Option<Timestamp> {
        self.stats.first_order_at.map(Timestamp)
    }
    /// When the latest order was placed.
    async fn last_order_at(&self) -> Option<Timestamp> {
        self.stats.last_order_at.map(Timestamp)
    }
    /// When these values were computed (now: they are computed on read).
    async fn computed_at(&self) -> Timestamp {
        Timestamp(self.computed_at)
    }
}
