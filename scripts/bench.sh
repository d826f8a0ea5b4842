#!/usr/bin/env bash
# End-to-end benchmark on the reference dataset: generate 10M records
# (mailtrail gen -n 10000000 -seed 1), ingest them into a fresh store
# (records/s, bytes on disk per record, peak RSS), run Q1-Q7 from the CLI
# (first run and median of 5), then through the API (StartQuery ->
# GetQueryResults) and PutLogEvents through the Go SDK with SigV4.
#
#   bash scripts/bench.sh            # N=10000000 by default
#   N=1000000 bash scripts/bench.sh  # a quicker pass
#   DATASET=ref bash scripts/bench.sh  # the anchors' own dataset instead
#       (../shared/bench/gen, the generator performance.md was measured
#       with: 494.6 bytes/record, no folder_id/action_allowed, item ids
#       from a small working set; ours is 555 bytes/record)
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

DATASET=${DATASET:-mailtrail}
data="$DIR/audit-$N.ndjson"
if [ "$DATASET" = ref ]; then data="$DIR/ref-$N.ndjson"; fi
if [ ! -s "$data" ]; then
  echo "== gen ($DATASET): $N records"
  if [ "$DATASET" = ref ]; then
    ref="$DIR/refgen"; mkdir -p "$ref"
    cp ../shared/bench/gen/main.go "$ref/main.go"
    printf 'module refgen\n\ngo 1.26\n' > "$ref/go.mod"
    (cd "$ref" && go build -o refgen .)
    /usr/bin/time -f "gen: %e s wall, %M KiB peak RSS" "$ref/refgen" -n "$N" -seed 1 -out "$data"
  else
    /usr/bin/time -f "gen: %e s wall, %M KiB peak RSS" "$MT" gen -n "$N" -seed 1 -out "$data"
  fi
fi
ls -l "$data"

store="$DIR/store-$N"
if [ "$DATASET" = ref ]; then store="$DIR/store-ref-$N"; fi
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
