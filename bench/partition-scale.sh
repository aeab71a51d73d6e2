#!/usr/bin/env bash
# Partition scale of a 3-node cluster, RF 3, on 127.0.0.1 (issue 9):
#   bench/partition-scale.sh fluxmq|kafka PARTITIONS
# Starts the cluster (FluxMQ with bin/fluxmq-local, Kafka with the shared bench's kafka-cluster.sh), creates
# PARTITIONS partitions in topics of 10 (one CreateTopics call per topic, all at once) and measures:
#   create / led      CreateTopics answers, time until every partition has a leader
#   per node          threads, anonymous and total RSS, CPU over IDLE_S seconds of idle (% of one core),
#                     open file descriptors; the largest thread-name groups (jstack) of one node
#   produce           10 records to every partition (acks=all), all read back
#   restart           node RESTART_NODE stopped (SIGTERM) and started with the same command line; time until its
#                     Kafka port accepts and until it is in the ISR of every partition again (as the leaders say)
# Every wait is bounded; every figure is one "RESULT ..." line on stdout. Stops what it started on exit.
# On a machine shared with other builds, run it under their lock (flock LOCKFILE bench/partition-scale.sh ...).
# Environment: IDLE_S=30 IDLE_SETTLE_S=0 (seconds to wait before the idle window: the JIT compiler is still busy right
#   after the creations) CREATE_TIMEOUT_S=120 LED_TIMEOUT_S=300 PRODUCE_TIMEOUT_S=180 INSYNC_TIMEOUT_S=180
#   RESTART_NODE=2 (FluxMQ node ids 0..2; Kafka 1..3, default 3) FLUXMQ_JAVA_OPTS (passed to bin/fluxmq-local)
#   KAFKA_BENCH=../shared/bench (where kafka-cluster.sh is, relative to the repository) THREAD_GROUPS=1 (0: skip jstack)
set -euo pipefail
cd "$(dirname "$0")/.."
SYSTEM="${1:?usage: $0 fluxmq|kafka PARTITIONS}"
PARTITIONS="${2:?usage: $0 fluxmq|kafka PARTITIONS}"
IDLE_S="${IDLE_S:-30}"
IDLE_SETTLE_S="${IDLE_SETTLE_S:-0}"
CREATE_TIMEOUT_S="${CREATE_TIMEOUT_S:-120}"
LED_TIMEOUT_S="${LED_TIMEOUT_S:-300}"
PRODUCE_TIMEOUT_S="${PRODUCE_TIMEOUT_S:-180}"
INSYNC_TIMEOUT_S="${INSYNC_TIMEOUT_S:-180}"
KAFKA_BENCH="${KAFKA_BENCH:-../shared/bench}"
THREAD_GROUPS="${THREAD_GROUPS:-1}"
PREFIX="scale"
WORK="$(mktemp -d /tmp/partition-scale.XXXXXX)"
TICKS=$(getconf CLK_TCK)
export FLUXMQ_LOCAL_DIR="${FLUXMQ_LOCAL_DIR:-.cluster-scale}"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$SYSTEM" in
  fluxmq)
    BOOTSTRAP=127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094
    RESTART_NODE="${RESTART_NODE:-2}"
    RESTART_PORT=$((9092 + RESTART_NODE))
    pidfile() { echo "$FLUXMQ_LOCAL_DIR/node-$1.pid"; }
    NODE_IDS="0 1 2"
    start_cluster() { rm -rf "$FLUXMQ_LOCAL_DIR"; FLUXMQ_LOCAL_NODES=3 bin/fluxmq-local start >"$WORK/start.log" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; }
    stop_cluster() { bin/fluxmq-local stop >/dev/null 2>&1 || true; }
    ;;
  kafka)
    BOOTSTRAP=127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094
    RESTART_NODE="${RESTART_NODE:-3}"
    RESTART_PORT=$((19092 + RESTART_NODE - 1))
    pidfile() { echo "${KAFKA_ANCHOR_DIR:-/tmp/kafka-anchor}/node$1/pid"; }
    NODE_IDS="1 2 3"
    start_cluster() { "$KAFKA_BENCH/kafka-cluster.sh" start 3 >"$WORK/start.log" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; }
    stop_cluster() { "$KAFKA_BENCH/kafka-cluster.sh" stop >/dev/null 2>&1 || true; }
    ;;
  *) echo "usage: $0 fluxmq|kafka PARTITIONS" >&2; exit 2 ;;
esac

cleanup() { stop_cluster; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

CP="$(cat node/target/classpath.txt)"
mkdir -p "$WORK/classes"
javac -nowarn -d "$WORK/classes" -cp "$CP" bench/PartitionScale.java
tool() { java -cp "$WORK/classes:$CP" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn PartitionScale "$@" 2>>"$WORK/tool.err" | grep '^RESULT' || true; }

pid_of() { cat "$(pidfile "$1")"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

t0=$(now_ms)
start_cluster
echo "RESULT system=$SYSTEM step=start partitions=$PARTITIONS start_ms=$(( $(now_ms) - t0 ))"

tool create "$BOOTSTRAP" "$PARTITIONS" "$PREFIX" "$CREATE_TIMEOUT_S"
tool led "$BOOTSTRAP" "$PARTITIONS" "$PREFIX" "$LED_TIMEOUT_S"

sleep "$IDLE_SETTLE_S" # 0 by default: the idle window starts right after the last partition got its leader
declare -A c0
for n in $NODE_IDS; do c0[$n]=$(cpu_ticks "$(pid_of "$n")"); done
sleep "$IDLE_S"
for n in $NODE_IDS; do
  pid=$(pid_of "$n")
  c1=$(cpu_ticks "$pid")
  echo "RESULT step=node node=$n threads=$(status_kb "$pid" Threads) rss_anon_mib=$(( $(status_kb "$pid" RssAnon) / 1024 ))" \
       "rss_mib=$(( $(status_kb "$pid" VmRSS) / 1024 )) fds=$(ls "/proc/$pid/fd" | wc -l)" \
       "idle_cpu_pct=$(awk -v d=$((c1 - c0[$n])) -v t="$TICKS" -v s="$IDLE_S" 'BEGIN { printf "%.1f", d * 100 / t / s }') idle_settle_s=$IDLE_SETTLE_S"
done
if [ "$THREAD_GROUPS" = 1 ]; then
  first=$(echo "$NODE_IDS" | cut -d' ' -f1)
  echo "thread groups of node $first (digits and group ids folded):"
  jstack "$(pid_of "$first")" 2>/dev/null | grep '^"' | sed -E 's/^"([^"]*)".*/\1/' \
    | sed -E 's/[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}/G/g; s/group-[0-9A-F]{12}/group-G/g; s/[0-9]+/N/g' \
    | sort | uniq -c | sort -rn | head -15 | sed 's/^/  /'
fi

tool produce "$BOOTSTRAP" "$PARTITIONS" "$PREFIX" "$PRODUCE_TIMEOUT_S"

# Restart one node with its own command line, working directory and log.
pid=$(pid_of "$RESTART_NODE")
tr '\0' '\n' <"/proc/$pid/cmdline" >"$WORK/cmdline"
cwd=$(readlink "/proc/$pid/cwd")
log=$(readlink "/proc/$pid/fd/1")
t0=$(now_ms)
kill -TERM "$pid"
for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
stop_ms=$(( $(now_ms) - t0 ))
mapfile -t cmd <"$WORK/cmdline"
t0=$(now_ms)
(cd "$cwd" && exec nohup "${cmd[@]}" >>"$log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
 echo $! >"$WORK/newpid")
sleep 0.2
cp "$WORK/newpid" "$(pidfile "$RESTART_NODE")"
for _ in $(seq 1 1200); do port_open "$RESTART_PORT" && break; sleep 0.1; done
echo "RESULT step=restart node=$RESTART_NODE stop_ms=$stop_ms port_ms=$(( $(now_ms) - t0 ))"
tool insync "$BOOTSTRAP" "$PARTITIONS" "$PREFIX" "$INSYNC_TIMEOUT_S" "$RESTART_NODE"
echo "RESULT step=restart-total node=$RESTART_NODE insync_since_launch_ms=$(( $(now_ms) - t0 ))"
if [ -s "$WORK/tool.err" ]; then echo "client tool stderr (last lines):"; tail -5 "$WORK/tool.err" | sed 's/^/  /'; fi
