#!/usr/bin/env bash
# Segment memberCount timings on a large store: a `whale_segments` database with CUSTOMERS
# customers (default 1,000,000) with natural histories, the release server, four dynamic
# segments, and the median of five `memberCount` reads each (after one warm-up read).
# REUSE=1 keeps an existing `whale_segments` database instead of reloading it.
set -euo pipefail
cd "$(dirname "$0")/.."

customers="${CUSTOMERS:-1000000}"
port="${BENCH_PORT:-18090}"
if [ "${REUSE:-0}" = 1 ]; then
  DATABASE_URL="$(scripts/db.sh --database whale_segments)"
else
  DATABASE_URL="$(scripts/db.sh --database whale_segments --fresh)"
fi
export DATABASE_URL
cargo build --locked --release
bin="${CARGO_TARGET_DIR:-target}/release/whale-crm"
if [ "${REUSE:-0}" = 1 ]; then
  store="$(psql "$DATABASE_URL" -Atc "SELECT 'store_' || replace(id::text, '-', '') FROM stores WHERE name = 'segments' LIMIT 1")"
  seeded="$($bin key create --store "$store" --name bench)"
else
  seeded="$($bin seed --customers "$customers" --store segments)"
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null 2>&1 || true
fi
key="$(echo "$seeded" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')"

# A store this size takes longer than a request's default 30 s to refit.
RUST_LOG=warn WHALE_METRICS_INTERVAL_SECS=0 WHALE_QUERY_TIMEOUT_SECS=900 $bin serve --bind "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

gql() { curl -fs "http://127.0.0.1:$port/graphql" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$1"; }
started=$(date +%s)
gql '{"query":"mutation { refitMetricsModel { method customersUsed fitDurationMs } }"}' >&2
echo " (refit request: $(( $(date +%s) - started )) s)" >&2

declare -A rules=(
  ["High-Value Churning"]='[{field:\"total_spent\",operator:\"gte\",value:500},{field:\"last_order_at\",operator:\"before\",value:\"90_days_ago\"},{field:\"churn_risk\",operator:\"gte\",value:0.6}]'
  ["Gmail VIPs in the US"]='[{field:\"email_domain\",operator:\"eq\",value:\"gmail.com\"},{field:\"tags\",operator:\"contains\",value:\"vip\"},{field:\"address.country\",operator:\"eq\",value:\"US\"}]'
  ["Champions"]='[{field:\"rfm_segment\",operator:\"eq\",value:\"champion\"}]'
  ["Trade-show leads without orders"]='[{field:\"metadata.source\",operator:\"eq\",value:\"trade_show\"},{field:\"total_orders\",operator:\"eq\",value:0}]'
)
echo "| segment | members | memberCount (median of 5) |"
echo "|---|---|---|"
for name in "High-Value Churning" "Gmail VIPs in the US" "Champions" "Trade-show leads without orders"; do
  id="$(gql "{\"query\":\"mutation { createSegment(input: {name: \\\"$name\\\", type: DYNAMIC, rules: ${rules[$name]}}) { id } }\"}" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
  query="{\"query\":\"{ segment(id: \\\"$id\\\") { memberCount } }\"}"
  count="$(gql "$query" | sed -n 's/.*"memberCount":\([0-9]*\).*/\1/p')"
  times=()
  for _ in 1 2 3 4 5; do
    times+=("$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/graphql" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$query")")
  done
  median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
  echo "| $name | $count | $(awk "BEGIN { printf \"%.0f ms\", $median * 1000 }") |"
done
