#!/usr/bin/env bash
# Partition scale of the multi-Raft engine alone (raft-core, ADR 3): three nodes in one JVM, N groups of three members.
#
#   [TRANSPORT=tcp] [IO_THREADS=1] bench/engine-scale.sh [groups, default 3000] [event loops per node, default 1]
#
# TRANSPORT=tcp carries the batches over the Netty transport of module raft (io.fluxmq.raft.engine) on 127.0.0.1,
# IO_THREADS Netty threads per node, instead of the in-process one, and adds the idle bytes on the wire.
#
# Builds bench/jmh (and raft-core) first unless BUILD=0. Prints time to every group led, to a proposal committed in
# each, idle CPU with every group quiet, engine threads, heap per member, and failover after cutting one node off.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BUILD:-1}" != 0 ]; then
  ./mvnw -B -q -DskipTests -pl bench/jmh -am package
fi
exec java -Xmx2g ${JAVA_OPTS:-} -cp "bench/jmh/target/classes:$(cat bench/jmh/target/classpath.txt)" \
  io.fluxmq.raftcore.engine.EngineScale "$@"
