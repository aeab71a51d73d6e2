#!/usr/bin/env bash
# Side by side: Apache Kafka, then FluxMQ, with the shared harness's bench.sh, one after the other.
#
#   FLUXMQ_BENCH_HARNESS=/path/to/shared/bench bench/compare.sh [1|3]
#
# 1. Kafka: the harness's run-anchor.sh N (starts a KRaft cluster, benches it, stops it).
# 2. FluxMQ: bin/fluxmq-local start with N nodes in a fresh data directory, bench.sh, stop.
# Then prints the harness's table of both runs, a ratio table (FluxMQ / Kafka) and per-node RSS (total and anonymous,
# the last sample taken while the node was up, after the cases), threads and start-up time (process start to the
# Kafka port accepting TCP, and to the node's "ready" line / Kafka's "Kafka Server started").
#
# Environment (optional): COMPARE_KAFKA=0 skips Kafka (FluxMQ only, e.g. for A/B runs of two builds);
#   COMPARE_OUT=/tmp/fluxmq-compare/<stamp>; FLUXMQ_LABEL=fluxmq-<N>node; anything bench.sh or run-anchor.sh reads
#   (CASES, WARMUP_RECORDS, QUIET_MAX_WAIT_S, ...); FLUXMQ_JAVA_OPTS for the FluxMQ nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-3}"
[ "$N" = 1 ] || [ "$N" = 3 ] || { echo "usage: $0 [1|3]" >&2; exit 2; }
H="${FLUXMQ_BENCH_HARNESS:-}"
[ -n "$H" ] && [ -x "$H/bench.sh" ] && [ -x "$H/run-anchor.sh" ] || {
  echo "compare: set FLUXMQ_BENCH_HARNESS to the shared bench folder (with bench.sh, run-anchor.sh, table.sh)" >&2
  exit 2
}
OUT="${COMPARE_OUT:-/tmp/fluxmq-compare/$(date +%Y%m%d-%H%M%S)}"
LABEL="${FLUXMQ_LABEL:-fluxmq-${N}node}"
mkdir -p "$OUT"
uptime_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
start_ms() { awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%d", $20 * 1000 / hz}' "/proc/$1/stat"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Samples RssAnon, VmRSS and threads of the PIDs that `$1` prints, once a second, into $2 (last sample per PID).
sample_rss() {
  while sleep 1; do
    for p in $(eval "$1" 2>/dev/null); do
      [ -r "/proc/$p/status" ] || continue
      awk -v p="$p" '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^Threads/{t=$2} END{if (r > 0) print p, r, a, t}' \
        "/proc/$p/status" > "$2.$p.tmp" 2>/dev/null && [ -s "$2.$p.tmp" ] && mv "$2.$p.tmp" "$2.$p"
    done
  done
}

rss_lines() { # label prefix
  for f in "$2".*; do
    # skip a sample the sampler was writing when it was stopped (an empty .tmp ended the script once)
    case "$f" in *.tmp) continue ;; esac
    [ -f "$f" ] || continue
    read -r p r a t < "$f" || continue
    echo "NODE label=$1 pid=$p vmrss_mib=$((r / 1024)) rss_anon_mib=$((a / 1024)) threads=$t"
  done
}

# A sampler left behind when a step fails would keep the caller's inherited descriptors (a flock) open forever.
SAMPLER=
trap '[ -z "$SAMPLER" ] || kill "$SAMPLER" 2>/dev/null || true' EXIT
if [ "${COMPARE_KAFKA:-1}" != 0 ]; then
  sample_rss "$H/kafka-cluster.sh pids" "$OUT/rss-kafka" & SAMPLER=$!
  ANCHOR_OUT="$OUT/kafka" "$H/run-anchor.sh" "$N" "kafka-${N}node" 2>&1 | tee "$OUT/kafka.log"
  kill "$SAMPLER"
  rss_lines "kafka-${N}node" "$OUT/rss-kafka" | tee -a "$OUT/kafka.log"
fi

# FluxMQ: a fresh cluster; inherited descriptors (a caller's flock) closed so the nodes do not keep them.
export FLUXMQ_LOCAL_DIR="$OUT/fluxmq-cluster" FLUXMQ_LOCAL_NODES="$N"
env -u FLUXMQ_BENCH_HARNESS bin/fluxmq-local start > "$OUT/fluxmq-start.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- & STARTER=$!
declare -A tcp ready
left=$N
while [ "$left" -gt 0 ]; do
  kill -0 "$STARTER" 2>/dev/null || [ -f "$FLUXMQ_LOCAL_DIR/node-$((N - 1)).pid" ] \
    || { cat "$OUT/fluxmq-start.log" >&2; exit 1; }
  left=0
  for ((i = 0; i < N; i++)); do
    pid=$(cat "$FLUXMQ_LOCAL_DIR/node-$i.pid" 2>/dev/null || true)
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/stat" ]; then left=$((left + 1)); continue; fi
    [ -n "${tcp[$i]:-}" ] || ! port_open $((9092 + i)) || tcp[$i]=$(( $(uptime_ms) - $(start_ms "$pid") ))
    [ -n "${ready[$i]:-}" ] || ! grep -q "ready. Bootstrap" "$FLUXMQ_LOCAL_DIR/node-$i.log" 2>/dev/null \
      || ready[$i]=$(( $(uptime_ms) - $(start_ms "$pid") ))
    { [ -n "${tcp[$i]:-}" ] && [ -n "${ready[$i]:-}" ]; } || left=$((left + 1))
  done
  [ "$left" -eq 0 ] || sleep 0.02
done
wait "$STARTER"
PIDS="$(cat "$FLUXMQ_LOCAL_DIR"/node-*.pid | tr '\n' ' ')"
BOOT=$(seq -s, -f '127.0.0.1:%g' 9092 $((9092 + N - 1)))
{
  for ((i = 0; i < N; i++)); do
    echo "STARTUP node=$i pid=$(cat "$FLUXMQ_LOCAL_DIR/node-$i.pid") port=$((9092 + i)) tcp_accept_ms=${tcp[$i]} server_started_ms=${ready[$i]}"
  done
} | tee "$OUT/fluxmq.log"
sample_rss "cat $FLUXMQ_LOCAL_DIR/node-*.pid" "$OUT/rss-fluxmq" & SAMPLER=$!
BENCH_LABEL="$LABEL" BROKER_PIDS="$PIDS" BENCH_OUT="$OUT/fluxmq-bench" "$H/bench.sh" "$BOOT" 2>&1 \
  | tee -a "$OUT/fluxmq.log" || true
sleep 1.5
kill "$SAMPLER"
rss_lines "$LABEL" "$OUT/rss-fluxmq" | tee -a "$OUT/fluxmq.log"
bin/fluxmq-local stop
rm -rf "$FLUXMQ_LOCAL_DIR"/node-*/topics "$FLUXMQ_LOCAL_DIR"/node-*/raft "$FLUXMQ_LOCAL_DIR"/node-*/multiraft

# ---- tables ----
kv() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a + 0 > 0 && b != "NA") printf "%.2f", b / a; else print "-" }'; }
KAFKA_LOG=$( [ -f "$OUT/kafka.log" ] && echo "$OUT/kafka.log" || true)
{
  echo; "$H/table.sh" $KAFKA_LOG "$OUT/fluxmq.log"; echo
  if [ -n "$KAFKA_LOG" ]; then
    echo "| case | Kafka | FluxMQ | FluxMQ / Kafka | broker CPU s Kafka / FluxMQ | CPU ratio |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    grep '^RESULT ' "$OUT/fluxmq.log" | while read -r f; do
      c=$(kv "$f" case); k=$(grep "^RESULT .*case=$c " "$KAFKA_LOG" | head -1)
      [ -n "$k" ] || continue
      case "$c" in b_*) m=mb_s ;; e_*) m=p99_ms ;; *) m=msgs_s ;; esac
      echo "| $c ($m) | $(kv "$k" $m) | $(kv "$f" $m) | $(ratio "$(kv "$k" $m)" "$(kv "$f" $m)") |" \
        "$(kv "$k" cpu_brokers_s) / $(kv "$f" cpu_brokers_s) | $(ratio "$(kv "$k" cpu_brokers_s)" "$(kv "$f" cpu_brokers_s)") |"
    done
    echo
  fi
  echo "| run | pid | VmRSS MiB | RssAnon MiB | threads |"
  echo "| --- | --- | ---: | ---: | ---: |"
  grep -h '^NODE ' $KAFKA_LOG "$OUT/fluxmq.log" | while read -r l; do
    echo "| $(kv "$l" label) | $(kv "$l" pid) | $(kv "$l" vmrss_mib) | $(kv "$l" rss_anon_mib) | $(kv "$l" threads) |"
  done
} | tee "$OUT/summary.md"
echo "logs and summary: $OUT"
