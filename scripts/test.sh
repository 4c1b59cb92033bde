#!/usr/bin/env bash
# Runs the whole test suite against a real PostgreSQL (started or installed by scripts/db.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# WHALE_TEST_DATABASE names the database (default whale_test), so several checkouts can test at once.
DATABASE_URL="$(scripts/db.sh --database "${WHALE_TEST_DATABASE:-whale_test}" --fresh)"
export DATABASE_URL
cargo build --locked --all-targets
cargo run --locked --quiet -- migrate
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked --no-fail-fast
fi
