#!/usr/bin/env bash
# Starts Whale CRM with a demo store: makes sure PostgreSQL is there, builds, loads the demo
# data (prints the store's API key) and serves GraphiQL at http://127.0.0.1:8080/graphql.
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="$(scripts/db.sh)"
export DATABASE_URL
cargo build --locked --release
./target/release/whale-crm seed --demo
echo "Open http://${WHALE_BIND:-127.0.0.1:8080}/graphql and add the header {\"Authorization\": \"Bearer <api_key above>\"}" >&2
exec ./target/release/whale-crm serve
