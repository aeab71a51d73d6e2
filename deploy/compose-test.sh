#!/usr/bin/env bash
# The whole docker compose path on a clean machine, then checks against the running cluster:
#   install the engine if missing (Debian packages), start it, build the base image if no JRE image is there, package
#   the project, build the image, run ContainerIT (Testcontainers) on it, `up`, wait until the three nodes are
#   healthy, run the checks, `down -v`.
# The cluster, and whatever ContainerIT left, is always removed (with volumes) on exit, whatever failed; the exit code
# is non-zero when anything failed.
#
#   deploy/compose-test.sh                      all checks
#   CHECKS="roundtrip kcat admin" deploy/compose-test.sh
#
# Checks (ComposeChecks in node's test sources, run on the host through the published ports):
#   containerit  ContainerIT (Maven, -Dfluxmq.image=$FLUXMQ_IMAGE), before `up`: three containers of the image that
#              the test starts itself; produce/consume through published ports, a leader's container killed, a
#              container paused past raft.pause.close.threshold.ms must exit with code 3; must run its 3 tests
#   roundtrip  a default Java producer writes 10000 records to an RF=3 topic, a consumer group reads each once
#   kcat       kcat writes 10000 lines to an RF=3 topic and reads each back once in a consumer group
#   admin      `$COMPOSE run --rm -T admin cluster status` shows three nodes UP
#   failover   under a continuous producer: docker kill of a partition leader, docker pause of another node past
#              the election and session timeouts, docker network disconnect of the third, each healed in turn;
#              recovery times printed; every acknowledged record present exactly once
#   rolling    docker restart of each node in turn (waiting until healthy and in sync) under a continuous producer
#   secure     last, on a cluster of its own (the plain one is removed first): deploy/secure/make-certs.sh, `up` with
#              docker-compose.secure.yml (cluster TLS, SASL_SSL listeners); kafka-configs adds a SCRAM-SHA-512 user over
#              PLAIN; the roundtrip over SCRAM-SHA-512, wrong passwords fail with SaslAuthenticationException and a
#              client not trusting the CA with SslAuthenticationException; kcat lists metadata over PLAIN; the admin
#              service (operator certificate) shows three nodes UP; from a container on the compose network without a
#              certificate: fluxmq-admin (plaintext) gets no answer (exit 3), the Raft and multi-Raft ports refuse a
#              TLS client without a certificate, the HTTP port answers no plain HTTP
# Environment: CHECKS; COMPOSE, the compose command, split at spaces (`docker-compose`, `docker compose`, or the path
# of a Compose v2 binary; default docker-compose if on PATH, else `docker compose`); BASE_IMAGE (default:
# eclipse-temurin:17-jre if present locally, else the image deploy/base-image/build.sh builds); FLUXMQ_IMAGE
# (fluxmq:compose-test); COMPOSE_PROJECT_NAME (fluxmqtest); NODE0_KAFKA_PORT..NODE2_KAFKA_PORT (the first
# three free consecutive ports from 29092);
# SKIP_PACKAGE=1 (use the jars already built); MAVEN_ARGS (given to Maven, e.g. -o); COMPOSE_TEST_LOGS (where the
# nodes' logs are saved before `down`, target/compose-test). Needs root to install or start the engine; Java 17 and
# kcat on the host (kcat is installed if missing).
#   COMPOSE=/opt/compose-v2/docker-compose deploy/compose-test.sh     the same under Compose v2
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKS="${CHECKS:-containerit roundtrip kcat admin failover rolling secure}"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-fluxmqtest}"
export FLUXMQ_IMAGE="${FLUXMQ_IMAGE:-fluxmq:compose-test}"
total_start=$SECONDS
step_start=$SECONDS
step() { echo "== $* ($(( SECONDS - total_start )) s)"; step_start=$SECONDS; }
took() { echo "== $1 took $(( SECONDS - step_start )) s"; }

step "engine"
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
if [ -z "${COMPOSE:-}" ]; then
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
fi
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)   # for the base image
command -v ss >/dev/null 2>&1 || missing+=(iproute2)   # to find free host ports
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! docker version >/dev/null 2>&1; then
  # detached, and without this shell's descriptors above 2: run under `flock LOCK ...`, the engine would otherwise
  # inherit the lock's descriptor and hold the lock for as long as it runs
  (
    for fd in $(ls /proc/$BASHPID/fd); do if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done
    exec setsid nohup dockerd </dev/null >>/var/log/dockerd.log 2>&1
  ) &
  for _ in $(seq 300); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
if [ -n "${COMPOSE:-}" ]; then
  read -r -a compose <<< "$COMPOSE"
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  compose=(docker compose)
fi
"${compose[@]}" version >/dev/null 2>&1 || { echo "compose command '${compose[*]}' does not run" >&2; exit 1; }
unset DOCKER_BUILDKIT
echo "docker $(docker version --format '{{.Server.Version}}'), ${compose[*]} $("${compose[@]}" version --short 2>/dev/null || true)"
took "engine"

# Host ports: three consecutive ports that no socket uses, from 29092 up, below the kernel's ephemeral range (32768-)
# so that no outgoing connection can take one while a node is down between a kill and its restart. (A fixed 39092 was
# in that range, and CI once found it taken: "bind: address already in use".)
port_free() { [ -z "$(ss -Htuan "( sport = :$1 )" 2>/dev/null)" ]; }
if [ -z "${NODE0_KAFKA_PORT:-}" ]; then
  base=29092
  while ! { port_free "$base" && port_free $(( base + 1 )) && port_free $(( base + 2 )); }; do
    base=$(( base + 3 ))
    [ "$base" -lt 32700 ] || { echo "no three free consecutive ports in 29092-32700" >&2; exit 1; }
  done
  NODE0_KAFKA_PORT=$base NODE1_KAFKA_PORT=$(( base + 1 )) NODE2_KAFKA_PORT=$(( base + 2 ))
fi
export NODE0_KAFKA_PORT NODE1_KAFKA_PORT="${NODE1_KAFKA_PORT:-$(( NODE0_KAFKA_PORT + 1 ))}" \
  NODE2_KAFKA_PORT="${NODE2_KAFKA_PORT:-$(( NODE0_KAFKA_PORT + 2 ))}"
echo "host ports $NODE0_KAFKA_PORT $NODE1_KAFKA_PORT $NODE2_KAFKA_PORT"
BOOTSTRAP="127.0.0.1:$NODE0_KAFKA_PORT,127.0.0.1:$NODE1_KAFKA_PORT,127.0.0.1:$NODE2_KAFKA_PORT"

step "base image"
if [ -z "${BASE_IMAGE:-}" ]; then
  if docker image inspect eclipse-temurin:17-jre >/dev/null 2>&1; then
    BASE_IMAGE=eclipse-temurin:17-jre
  else
    BASE_IMAGE=fluxmq/jre-base:17-bookworm
    deploy/base-image/build.sh "$BASE_IMAGE"
  fi
fi
export BASE_IMAGE
echo "base image $BASE_IMAGE"
took "base image"

if [ "${SKIP_PACKAGE:-0}" != 1 ]; then
  step "package (./mvnw -DskipTests package)"
  ./mvnw -B -q -DskipTests package
  took "package"
fi

step "image $FLUXMQ_IMAGE"
docker build -q -f deploy/Dockerfile --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$FLUXMQ_IMAGE" . >/dev/null
docker image inspect -f '{{.Size}}' "$FLUXMQ_IMAGE" | awk '{printf "image size %.0f MB\n", $1 / 1e6}'
took "image"

logs="${COMPOSE_TEST_LOGS:-target/compose-test}"
itlabel=io.fluxmq.test.container-it   # ContainerIT labels its containers and network with it
cleanup() {
  local rc=$?
  mkdir -p "$logs"
  timeout 60 "${compose[@]}" logs --no-color --timestamps node0 node1 node2 > "$logs/nodes.log" 2>&1 || true
  if [ "$rc" != 0 ]; then
    echo "== failed (exit $rc); every node's log is in $logs/nodes.log (ContainerIT's: node/target/node-logs/container-node*.log); the last lines:" >&2
    timeout 60 "${compose[@]}" logs --no-color --tail 20 node0 node1 node2 >&2 || true
  fi
  echo "== down -v"
  timeout 180 "${compose[@]}" --profile admin down -v --remove-orphans >/dev/null 2>&1 || true
  # left only if ContainerIT's JVM died before its own clean-up
  docker ps -aq --filter "label=$itlabel" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  docker network ls -q --filter "label=$itlabel" | xargs -r docker network rm >/dev/null 2>&1 || true
  echo "== total $(( SECONDS - total_start )) s, exit $rc"
  exit "$rc"
}
trap cleanup EXIT
mkdir -p "$logs"
# a cluster left by an earlier run of this project name would be reused: start from nothing
timeout 180 "${compose[@]}" --profile admin down -v --remove-orphans >/dev/null 2>&1 || true

if [[ " $CHECKS " == *" containerit "* ]]; then
  step "check containerit (Testcontainers, image $FLUXMQ_IMAGE)"
  report=node/target/failsafe-reports/TEST-io.fluxmq.node.ContainerIT.xml
  rm -f "$report"
  ./mvnw -B -pl node -am verify -Dit.test=ContainerIT -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dfailsafe.failIfNoSpecifiedTests=false -Dfluxmq.image="$FLUXMQ_IMAGE" > "$logs/containerit.log" 2>&1 \
    || { grep -E 'CONTAINERS|Tests run|FAIL|ERROR' "$logs/containerit.log" | head -40 >&2; exit 1; }
  grep -E '^(CONTAINERS|ROUNDTRIP|RECOVERY|CHECK) ' "$logs/containerit.log" || true
  # a skipped ContainerIT (the image property lost on the way) must not pass for a run one
  grep -q 'tests="3"' "$report" && grep -q 'skipped="0"' "$report" && grep -q 'failures="0"' "$report" \
    && grep -q 'errors="0"' "$report" || { echo "ContainerIT did not run its 3 tests: see $report" >&2; exit 1; }
  echo "ContainerIT: 3 tests run, all passed (Maven output in $logs/containerit.log)"
  took "check containerit"
fi

declare -A container
# `up` of the three nodes, then waits until they are healthy; sets container (ids) and network
up() {
  "${compose[@]}" up -d --no-build node0 node1 node2
  # by id, from compose itself: v1 names the containers fluxmqtest_node0_1, v2 fluxmqtest-node0-1
  for n in 0 1 2; do
    container[$n]="$("${compose[@]}" ps -q "node$n")"
    [[ "${container[$n]}" =~ ^[0-9a-f]+$ ]] || { echo "node$n: no single container id from ps -q: '${container[$n]}'" >&2; exit 1; }
  done
  network="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "${container[0]}")"
  local deadline=$(( SECONDS + 180 ))
  for n in 0 1 2; do
    until [ "$(docker inspect -f '{{.State.Health.Status}}' "${container[$n]}")" = healthy ]; do
      if [ "$SECONDS" -ge "$deadline" ] || [ "$(docker inspect -f '{{.State.Running}}' "${container[$n]}")" != true ]; then
        echo "node$n not healthy: $(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "${container[$n]}")" >&2
        exit 1
      fi
      sleep 0.5
    done
  done
  echo "3 nodes healthy; bootstrap $BOOTSTRAP; network $network"
}
# three nodes UP in `cluster status` of the admin service
admin_status() {
  local out
  out="$(timeout 120 "${compose[@]}" run --rm -T admin cluster status)"
  echo "$out"
  [ "$(echo "$out" | grep -cE '^[0-2] +node[0-2]:19092 +UP ')" = 3 ] || { echo "admin: not three nodes UP" >&2; exit 1; }
}

checks_cp="node/target/test-classes:node/target/classes:$(cat node/target/test-classpath.txt)"
checks() { java -Xmx512m -Dslf4j.provider=org.slf4j.nop.NOPServiceProvider -cp "$checks_cp" io.fluxmq.node.ComposeChecks "$@"; }
# Kafka's kafka-configs.sh (kafka.admin.ConfigCommand of kafka_2.13, on the test class path)
kafka_configs() { java -Xmx256m -Dslf4j.provider=org.slf4j.nop.NOPServiceProvider -cp "$checks_cp" kafka.admin.ConfigCommand "$@"; }

plain_checks=()
for check in $CHECKS; do
  case "$check" in containerit|secure) ;; *) plain_checks+=("$check") ;; esac
done
if [ "${#plain_checks[@]}" -gt 0 ]; then
  step "up"
  up
  took "up"
fi
nodes=(node0="${container[0]:-}" node1="${container[1]:-}" node2="${container[2]:-}")

for check in "${plain_checks[@]}"; do
  step "check $check"
  case "$check" in
    roundtrip)
      checks roundtrip "$BOOTSTRAP" roundtrip 10000
      ;;
    kcat)
      checks create-topic "$BOOTSTRAP" kcat 6
      sent="$(mktemp)"; got="$(mktemp)"
      seq 1 10000 | sed 's/^/kcat-/' > "$sent"
      sed 's/.*/&:&/' "$sent" | timeout 120 kcat -b "$BOOTSTRAP" -P -t kcat -X acks=all -K:
      # a consumer group of one; -e: exit once every assigned partition is read to its end
      timeout 120 kcat -b "$BOOTSTRAP" -G kcat-check -X auto.offset.reset=earliest -e -q -f '%s\n' kcat > "$got"
      dups="$(sort "$got" | uniq -d | wc -l)"
      echo "KCAT wrote $(wc -l < "$sent"), the group read $(wc -l < "$got") ($dups duplicated)"
      if [ "$dups" != 0 ] || ! diff <(sort "$sent") <(sort "$got") >/dev/null; then
        echo "KCAT read back differs from what it wrote" >&2
        exit 1
      fi
      rm -f "$sent" "$got"
      ;;
    admin)
      admin_status
      ;;
    failover)
      checks failover "$BOOTSTRAP" "$network" "${nodes[@]}"
      ;;
    rolling)
      checks rolling "$BOOTSTRAP" "${nodes[@]}"
      ;;
    *)
      echo "unknown check $check" >&2
      exit 2
      ;;
  esac
  took "check $check"
done

if [[ " $CHECKS " == *" secure "* ]]; then
  step "check secure: certificates, up with docker-compose.secure.yml"
  mkdir -p "$logs/certs"
  FLUXMQ_CERTS="$(cd "$logs/certs" && pwd)"
  export FLUXMQ_CERTS
  FORCE=1 deploy/secure/make-certs.sh "$FLUXMQ_CERTS"
  if [ "${#plain_checks[@]}" -gt 0 ]; then
    timeout 180 "${compose[@]}" --profile admin down -v --remove-orphans >/dev/null 2>&1
  fi
  compose+=(-f docker-compose.yml -f docker-compose.secure.yml)   # from here on, the cleanup's too
  up
  took "secure up"
  step "check secure"
  # as docs/security.md: kafka-configs over PLAIN (user admin) adds alice's SCRAM-SHA-512 credential
  kafka_configs --bootstrap-server "$BOOTSTRAP" --command-config "$FLUXMQ_CERTS/client-plain.properties" --alter \
    --add-config 'SCRAM-SHA-512=[password=alice-secret]' --entity-type users --entity-name alice
  checks secure "$BOOTSTRAP" "$FLUXMQ_CERTS/client-scram.properties" "$FLUXMQ_CERTS/client-plain.properties" secure 10000
  # kcat over SASL_SSL with PLAIN (Debian's librdkafka 2.0.2 cannot do SCRAM with kafka-clients 4.x, docs/security.md)
  meta="$(timeout 60 kcat -b "$BOOTSTRAP" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN -X sasl.username=alice \
    -X sasl.password=alice-secret -X ssl.ca.location="$FLUXMQ_CERTS/ca.pem" -m 30 -L)"
  echo "$meta" | sed -n 1,5p
  echo "$meta" | grep -q '^ 3 brokers:' || { echo "kcat over SASL_SSL: not three brokers" >&2; exit 1; }
  admin_status
  # a container on the compose network without the cluster's certificate: fluxmq-admin in plaintext gets no answer
  # (exit 3: no node answered), a TLS client without a certificate is refused by the Raft transport (Ratis, 9192) and
  # the multi-Raft engine's (9492), and the HTTP port answers no plain HTTP
  docker run --rm --network "$network" --entrypoint bash "$FLUXMQ_IMAGE" -c '
    fluxmq-admin cluster status --bootstrap node0:9292 --timeout-ms 10000 >/tmp/out 2>&1; rc=$?
    echo "fluxmq-admin without TLS: exit $rc: $(cat /tmp/out)"
    [ "$rc" = 3 ] && grep -q UNAVAILABLE /tmp/out || exit 1
    for port in 9192 9492; do
      alert="$(timeout 10 openssl s_client -ign_eof -connect node0:$port </dev/null 2>&1 | grep -o "alert certificate required")"
      echo "TLS without a certificate to node0:$port: ${alert:-not refused}"
      [ -n "$alert" ] || exit 1
    done
    exec 3<>/dev/tcp/node0/9392 || exit 1
    printf "GET /ready HTTP/1.0\r\n\r\n" >&3
    IFS= read -r -t 10 status <&3
    echo "plain HTTP to node0:9392: ${status:-no answer}"
    case "$status" in HTTP/*) exit 1 ;; esac' || { echo "secure: a process without the cluster certificate got in" >&2; exit 1; }
  took "check secure"
fi
echo "== all checks passed: $CHECKS"
