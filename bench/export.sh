#!/usr/bin/env bash
# bench/export: the auditors' NDJSON export of 3,000,000 events (BENCH_EXPORT_EVENTS) through the API and the CLI, events/s
# and the exporter's peak RSS at 100k, 300k, 1M and 3M. Figures on stdout, one per line. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_prepare
node "${BENCH_NODE_ARGS[@]}" bench/export.ts # not exec: the EXIT trap stops what bench_prepare started
