//! `whale-crm bench`: the nested customer page under concurrent load from this (separate)
//! process, next to the same SQL run by `pgbench` on the same database as a ceiling.
//!
//! The page is `customers(first: 50)` with each customer's addresses, last 10 events and last 10
//! notes. The server answers it with five statements (key lookup, page, addresses, activity,
//! notes); `pgbench` runs those five statements, prepared, for the same store and customers.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The benchmarked query.
pub const NESTED_PAGE: &str = "query($first: Int!) { customers(first: $first) { nodes { id email firstName lastName totalSpent
  addresses { city country } activity(first: 10) { nodes { type title occurredAt amount } } notes(first: 10) { nodes { body author } } } } }";

/// Settings of one run.
pub struct BenchConfig {
    pub url: String,
    pub key: String,
    pub concurrency: usize,
    pub duration: Duration,
    pub first: i32,
}

/// Throughput and latency of one side.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub count: usize,
    pub errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn measured(mut latencies_ms: Vec<f64>, elapsed: Duration, errors: usize) -> Measured {
    latencies_ms.sort_by(f64::total_cmp);
    Measured {
        per_second: latencies_ms.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&latencies_ms, 0.50),
        p99_ms: percentile(&latencies_ms, 0.99),
        count: latencies_ms.len(),
        errors,
    }
}

/// Loads the server with the nested page from `concurrency` workers for `duration` (after a
/// two-second warm-up).
pub async fn http_load(config: &BenchConfig) -> anyhow::Result<Measured> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(config.concurrency).build()?;
    let body = json!({ "query": NESTED_PAGE, "variables": { "first": config.first } });
    let send = |client: reqwest::Client, body: Value| {
        let (url, key) = (format!("{}/graphql", config.url), config.key.clone());
        async move {
            let response = client.post(url).bearer_auth(key).json(&body).send().await?;
            let ok = response.status().is_success();
            // A successful response starts with its data (errors are written first).
            let bytes = response.bytes().await?;
            anyhow::Ok(ok && bytes.starts_with(br#"{"data""#))
        }
    };
    anyhow::ensure!(send(client.clone(), body.clone()).await?, "the benchmark query fails; is the key right?");
    let warm_up = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm_up {
        send(client.clone(), body.clone()).await?;
    }
    let started = Instant::now();
    let deadline = started + config.duration;
    let workers = (0..config.concurrency).map(|_| {
        let (client, body) = (client.clone(), body.clone());
        let send = &send;
        async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                match send(client.clone(), body.clone()).await {
                    Ok(true) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }
    });
    let results = futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let errors = results.iter().map(|(_, e)| e).sum();
    Ok(measured(results.into_iter().flat_map(|(l, _)| l).collect(), elapsed, errors))
}

/// Writes the pgbench script: the five statements the server runs for the page.
pub fn write_pgbench_script(path: &Path, key_prefix: &str, store: uuid::Uuid, customers: &[uuid::Uuid], first: i32) -> anyhow::Result<()> {
    let ids = customers.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    let script = format!(
        "SELECT store_id, id, name, read_only, secret_hash FROM api_keys WHERE prefix = '{key_prefix}' AND revoked_at IS NULL LIMIT 1;
SELECT store_id, id, email, email_lower, first_name, last_name, phone, tags, metadata, total_orders, total_spent, first_order_at, last_order_at, created_at, updated_at FROM customers WHERE store_id = '{store}' ORDER BY created_at DESC, id DESC LIMIT {limit};
SELECT id, customer_id, position, is_default, first_name, last_name, company, line1, line2, city, state, postal_code, country, phone, created_at FROM customer_addresses WHERE store_id = '{store}' AND customer_id = ANY('{{{ids}}}'::uuid[]) ORDER BY customer_id, position;
SELECT e.* FROM unnest('{{{ids}}}'::uuid[]) AS c(id) CROSS JOIN LATERAL (SELECT e.id, e.customer_id, e.event_type, e.occurred_at, e.title, e.amount, e.external_id, e.order_id, e.campaign_id, e.referrer, e.agent, e.properties, e.created_at FROM activity_events e WHERE e.store_id = '{store}' AND e.customer_id = c.id ORDER BY e.occurred_at DESC, e.id DESC LIMIT 11) e;
SELECT n.* FROM unnest('{{{ids}}}'::uuid[]) AS c(id) CROSS JOIN LATERAL (SELECT n.id, n.customer_id, n.body, n.author, n.created_at, n.updated_at FROM customer_notes n WHERE n.store_id = '{store}' AND n.customer_id = c.id ORDER BY n.created_at DESC, n.id DESC LIMIT 11) n;
",
        limit = first + 1
    );
    std::fs::write(path, script)?;
    Ok(())
}

/// Runs the script with pgbench (prepared statements, `concurrency` clients) and reads the
/// per-transaction latencies from its log.
pub fn pgbench(database_url: &str, script: &Path, concurrency: usize, duration: Duration) -> anyhow::Result<Measured> {
    let dir = script.parent().unwrap_or(Path::new("."));
    let prefix = dir.join("pgbench_log");
    let status = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", &concurrency.to_string(), "-j", "2"])
        .args(["-T", &duration.as_secs().to_string(), "-l", "--log-prefix"])
        .arg(&prefix)
        .arg("-f")
        .arg(script)
        .arg(database_url)
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "pgbench failed");
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("pgbench_log")) {
            // client_id transaction_no latency_us script_no epoch epoch_us
            for line in std::fs::read_to_string(&path)?.lines() {
                if let Some(us) = line.split_whitespace().nth(2).and_then(|t| t.parse::<f64>().ok()) {
                    latencies.push(us / 1000.0);
                }
            }
            std::fs::remove_file(&path)?;
        }
    }
    Ok(measured(latencies, duration, 0))
}

/// One round: the API under load, then (unless skipped) pgbench for as long.
pub struct Round {
    pub api: Measured,
    pub ceiling: Option<Measured>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(&values, 0.5)
}

/// The Markdown table of a run: medians over rounds, and the median of the rounds' ratios.
pub fn table(config: &BenchConfig, rounds: &[Round]) -> String {
    fn api(r: &Round) -> Option<&Measured> {
        Some(&r.api)
    }
    fn ceiling(r: &Round) -> Option<&Measured> {
        r.ceiling.as_ref()
    }
    let of = |pick: fn(&Measured) -> f64, side: fn(&Round) -> Option<&Measured>| median(rounds.iter().filter_map(side).map(pick).collect());
    let errors: usize = rounds.iter().map(|r| r.api.errors).sum();
    let mut out = format!(
        "| nested page, {} customers, via HTTP (c={}) | {:.0} pages/s | {:.1} ms | {:.1} ms | {errors} errors |\n",
        config.first,
        config.concurrency,
        of(|m| m.per_second, api),
        of(|m| m.p50_ms, api),
        of(|m| m.p99_ms, api),
    );
    let ratios: Vec<f64> = rounds.iter().filter_map(|r| Some(r.api.per_second / r.ceiling.as_ref()?.per_second)).collect();
    if !ratios.is_empty() {
        out.push_str(&format!(
            "| same 5 statements via pgbench (c={}) | {:.0} pages/s | {:.1} ms | {:.1} ms | ceiling |\n",
            config.concurrency,
            of(|m| m.per_second, ceiling),
            of(|m| m.p50_ms, ceiling),
            of(|m| m.p99_ms, ceiling),
        ));
        let each: Vec<String> = ratios.iter().map(|r| format!("{:.0}%", 100.0 * r)).collect();
        out.push_str(&format!("| ratio API / pgbench | **{:.0}%** | rounds: {} | | |\n", 100.0 * median(ratios), each.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_is_the_median_of_the_rounds() {
        let m = |per_second| Measured { per_second, p50_ms: 1.0, p99_ms: 2.0, count: 1, errors: 0 };
        let config = BenchConfig { url: String::new(), key: String::new(), concurrency: 16, duration: Duration::from_secs(1), first: 50 };
        let rounds = [(100.0, 400.0), (300.0, 600.0), (200.0, 500.0)].map(|(a, c)| Round { api: m(a), ceiling: Some(m(c)) });
        let table = table(&config, &rounds);
        assert!(table.contains("| 200 pages/s |"), "{table}");
        assert!(table.contains("| 500 pages/s |"), "{table}");
        assert!(table.contains("**40%** | rounds: 25%, 50%, 40%"), "{table}");
    }

    #[test]
    fn percentiles_of_a_known_series() {
        let m = measured((1..=100).map(f64::from).collect(), Duration::from_secs(10), 0);
        assert_eq!((m.per_second, m.p50_ms, m.p99_ms), (10.0, 51.0, 99.0));
    }
}
