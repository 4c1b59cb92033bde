#!/usr/bin/env bash
# The nested-page benchmark: a fresh `whale_bench` database with CUSTOMERS customers and
# EVENTS events each (default 100,000 and 20), the server in one process, the load generator
# (`whale-crm bench`) in another, and pgbench running the same SQL as the ceiling.
#
#   scripts/bench.sh            # CUSTOMERS=100000 EVENTS=20 CONCURRENCY=16 SECONDS_PER_SIDE=8 ROUNDS=5
set -euo pipefail
cd "$(dirname "$0")/.."

customers="${CUSTOMERS:-100000}"
events="${EVENTS:-20}"
concurrency="${CONCURRENCY:-16}"
seconds="${SECONDS_PER_SIDE:-8}"
rounds="${ROUNDS:-5}"
port="${BENCH_PORT:-18080}"

DATABASE_URL="$(scripts/db.sh --database whale_bench --fresh)"
export DATABASE_URL
cargo build --locked --release
bin="${CARGO_TARGET_DIR:-target}/release/whale-crm"

seeded="$($bin seed --customers "$customers" --events-per-customer "$events" --store bench)"
key="$(echo "$seeded" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')"
store="$(echo "$seeded" | sed -n 's/.*"store_id":"\([^"]*\)".*/\1/p')"
# the load generator is one key asking as fast as it can: give it a bucket that never runs dry,
# so the benchmark measures the limits' cost and not the rate limit itself
$bin store limits --store "$store" --bucket 1000000000 --restore 1000000000 2>/dev/null
psql "$DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null 2>&1 || true

# no background work (refits, jobs) competes with the measurement
RUST_LOG=warn WHALE_WORKERS=0 WHALE_METRICS_INTERVAL_SECS=0 WHALE_DB_POOL_SIZE="$concurrency" $bin serve --bind "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "| what | throughput | p50 | p99 | |"
echo "|---|---|---|---|---|"
$bin bench --url "http://127.0.0.1:$port" --key "$key" --concurrency "$concurrency" --seconds "$seconds" --rounds "$rounds"
