#!/usr/bin/env bash
# bench/verify: legacy verification throughput and latency of the real API beside a bare node:http + pg
# baseline, in one run. Figures on stdout, one per line; progress on stderr. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_prepare
node "${BENCH_NODE_ARGS[@]}" bench/verify.ts # not exec: the EXIT trap stops what bench_prepare started
