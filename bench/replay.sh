#!/usr/bin/env bash
# bench/replay: rebuild every read model from ≥ 1,000,000 events beside the raw read speed of the events
# table, in one run. Figures on stdout, one per line; progress on stderr. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_prepare
node "${BENCH_NODE_ARGS[@]}" bench/replay.ts # not exec: the EXIT trap stops what bench_prepare started
