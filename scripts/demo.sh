#!/usr/bin/env bash
# Starts Whale CRM with a demo store: makes sure PostgreSQL is there, builds, loads the demo
# data (prints the store's API key) and serves GraphiQL at http://127.0.0.1:8080/graphql.
# The server's secret is generated once into .demo/secret, so download links survive restarts.
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="$(scripts/db.sh)"
export DATABASE_URL
bin="${CARGO_TARGET_DIR:-target}/demo/whale-crm"
if [ ! -x "$bin" ]; then
  echo "Building Whale CRM (profile demo) for the first time: a few minutes on a small machine (about 10 on 2 busy cores)..." >&2
fi
cargo build --locked --profile demo
mkdir -p .demo
if [ ! -s .demo/secret ]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .demo/secret)
fi
WHALE_SECRET="$(cat .demo/secret)"
export WHALE_SECRET
export WHALE_GRAPHIQL="${WHALE_GRAPHIQL:-true}"
"$bin" seed --demo
echo "Open http://${WHALE_BIND:-127.0.0.1:8080}/graphql and add the header {\"Authorization\": \"Bearer <api_key above>\"}" >&2
exec "$bin" serve
