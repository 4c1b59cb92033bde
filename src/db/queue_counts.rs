//! Totals across stores for `/metrics`: jobs by kind and state, webhook deliveries and data
//! requests by status, in one statement, with a zero for every state that has none (so a gauge
//! reads 0 rather than vanishing). Read by the metrics refresher every few seconds, never by a
//! scrape.

use diesel::QueryResult;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One total: `kind` is a job kind, or `webhook_delivery` / `data_request`.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The states of each table (their `CHECK` constraints).
const JOB_STATES: [&str; 4] = ["queued", "running", "succeeded", "failed"];
const DELIVERY_STATES: [&str; 3] = ["PENDING", "SUCCEEDED", "FAILED"];
const DATA_REQUEST_STATES: [&str; 4] = ["PENDING", "PROCESSING", "COMPLETED", "FAILED"];

/// Every total, now, for jobs of `job_kinds` and any other kind found.
pub async fn all(conn: &mut AsyncPgConnection, job_kinds: &[&str]) -> QueryResult<Vec<QueueCount>> {
    let found: Vec<QueueCount> = diesel::sql_query(
        "SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state \
         UNION ALL SELECT 'webhook_delivery', status, count(*) FROM webhook_deliveries GROUP BY status \
         UNION ALL SELECT 'data_request', status, count(*) FROM data_requests GROUP BY status",
    )
    .load(conn)
    .await?;
    Ok(zero_filled(found, job_kinds))
}

fn zero_filled(mut found: Vec<QueueCount>, job_kinds: &[&str]) -> Vec<QueueCount> {
    let expected = job_kinds
        .iter()
        .flat_map(|kind| JOB_STATES.map(|state| (*kind, state)))
        .chain(DELIVERY_STATES.map(|state| ("webhook_delivery", state)))
        .chain(DATA_REQUEST_STATES.map(|state| ("data_request", state)));
    for (kind, state) in expected {
        if !found.iter().any(|c| c.kind == kind && c.state == state) {
            found.push(QueueCount { kind: kind.to_owned(), state: state.to_owned(), n: 0 });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_states_read_zero() {
        let found = vec![QueueCount { kind: "a".into(), state: "queued".into(), n: 3 }];
        let all = zero_filled(found, &["a", "b"]);
        assert_eq!(all.len(), 2 * 4 + 3 + 4);
        assert!(all.contains(&QueueCount { kind: "a".into(), state: "queued".into(), n: 3 }));
        assert!(all.contains(&QueueCount { kind: "b".into(), state: "failed".into(), n: 0 }));
        assert!(all.contains(&QueueCount { kind: "data_request".into(), state: "COMPLETED".into(), n: 0 }));
    }
}
