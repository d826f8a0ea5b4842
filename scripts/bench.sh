#!/usr/bin/env bash
# End-to-end benchmark on the reference dataset: generate 10M records
# (mailtrail gen -n 10000000 -seed 1), ingest them into a fresh store
# (records/s, bytes on disk per record, peak RSS), run Q1-Q7 from the CLI
# (first run and median of 5), then through the API (StartQuery ->
# GetQueryResults) and PutLogEvents through the Go SDK with SigV4.
#
#   bash scripts/bench.sh            # N=10000000 by default
#   N=1000000 bash scripts/bench.sh  # a quicker pass
#
# Scratch goes to $BENCH_DIR (default /tmp/mailtrail-bench); it is kept so
# a second run reuses the dataset (delete the directory to start over).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000000}
DIR=${BENCH_DIR:-/tmp/mailtrail-bench}
QUERIES=${QUERIES:-../shared/bench/queries/cwli.txt}
mkdir -p "$DIR"
go build -o "$DIR/mailtrail" ./cmd/mailtrail
MT="$DIR/mailtrail"

data="$DIR/audit-$N.ndjson"
if [ ! -s "$data" ]; then
  echo "== gen: $N records"
  /usr/bin/time -f "gen: %e s wall, %M KiB peak RSS" "$MT" gen -n "$N" -seed 1 -out "$data"
fi
ls -l "$data"

store="$DIR/store-$N"
rm -rf "$store"
echo "== ingest into a fresh store"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
/usr/bin/time -f "ingest: %e s wall, %M KiB peak RSS" "$MT" ingest --data "$store" --group bench "$data"
du -sb "$store" | awk -v n="$N" '{printf "store: %d bytes on disk = %.1f bytes/record\n", $1, $1/n}'

echo "== Q1-Q7 through the CLI (first run after dropping the page cache, then median of 5 warm runs)"
grep -P '^Q\d\t' "$QUERIES" | while IFS=$'\t' read -r name q; do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  printf '%s\t' "$name"
  "$MT" query --data "$store" --group bench --format csv --repeat 6 --quiet "$q" 2>&1 >/dev/null | tr '\n' ' '
  echo
done

echo "== Q1-Q7 through the API (StartQuery -> GetQueryResults, Go SDK)"
MAILTRAIL_BENCH_DATA="$store" MAILTRAIL_BENCH_GROUP=bench \
  go test -count=1 -run TestQueryLatencyAPI -v ./e2e 2>&1 | grep -E '^Q[0-9]|FAIL|ok'

echo "== PutLogEvents through the API (Go SDK, SigV4 on, 4 streams)"
go test -count=1 -run XXX -bench BenchmarkPutLogEvents -benchtime 200x ./e2e 2>&1 | grep -E 'Benchmark|ok|FAIL'
