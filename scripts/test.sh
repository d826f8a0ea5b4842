#!/usr/bin/env bash
# The test command (README.md, .ci/run): install what the tests need, vet,
# then run every package's tests, end-to-end tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
go vet ./...
go test -count=1 -timeout 25m ./...
