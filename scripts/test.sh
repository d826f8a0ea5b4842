#!/usr/bin/env bash
# README's test command: the same run CI does (.ci/run).
set -euo pipefail
exec bash "$(dirname "$0")/../.ci/run"
