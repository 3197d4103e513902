#!/usr/bin/env bash
# The main job on the embedded sample: installs what is missing, builds, then
# generates the reference `customers` table (200,000 rows, seed 42; see
# ../shared/WORKLOAD.md and bench/gen_customers.cc), imports it into a
# dataset partitioned by region with an email index, shows `info`, the history
# and a few rows, then opens the SQL shell (retl-query) on it, or, when stdin
# is not a terminal, runs a short scripted tour of lookups and aggregations
# (scripts/demo_tour.sql).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
bin=build/release
sample=build/sample
mkdir -p "$sample"
if [ ! -s "$sample/customers.csv" ]; then
  "$bin/bench/retl-gen-customers" --rows 200000 --seed 42 --output "$sample/customers.csv"
fi
rm -rf "$sample/customers_ds"
"$bin/tools/retl-build" init "$sample/customers_ds"
"$bin/tools/retl-build" import "$sample/customers_ds" --table customers \
  --input "$sample/customers.csv" --primary-key customer_id --partition-by region --index email \
  --message "sample: reference customers table, 200,000 rows"
echo
"$bin/tools/retl-build" info "$sample/customers_ds"
echo
"$bin/tools/retl-build" versions "$sample/customers_ds"
echo
echo "First rows of partition 'western_europe':"
"$bin/tools/retl-build" dump "$sample/customers_ds" --table customers \
  --partition western_europe --limit 5
echo
"$bin/tools/retl-build" verify "$sample/customers_ds"
echo
echo "Dataset: $sample/customers_ds   (try: $bin/tools/retl-build --help)"
echo
if [ -t 0 ]; then
  exec "$bin/tools/retl-query" "$sample/customers_ds"
fi
echo "SQL tour (scripts/demo_tour.sql; on a terminal this opens the retl-query shell):"
"$bin/tools/retl-query" "$sample/customers_ds" --timer < scripts/demo_tour.sql
