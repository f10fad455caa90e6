#!/usr/bin/env bash
# bench/create: app-password creations per second through the real API, durable in PostgreSQL, and
# the outbox-to-Kafka lag at that rate. Figures on stdout, one per line; progress on stderr.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_prepare
node "${BENCH_NODE_ARGS[@]}" bench/create.ts # not exec: the EXIT trap stops what bench_prepare started
