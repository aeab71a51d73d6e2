#!/usr/bin/env bash
# Runs the JMH micro-benchmarks of the hot paths (see README.md next to this script).
#
#   bench/jmh/run.sh                         all of them (about 10 minutes)
#   bench/jmh/run.sh SegmentAppend           those whose name matches a regex; any JMH option works:
#   bench/jmh/run.sh BatchStamp -p batchBytes=16384 -f 1 -wi 2 -i 3
#
# Builds the module (and what it depends on) first unless BUILD=0. Not part of `./mvnw verify`'s tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${BUILD:-1}" != 0 ]; then
  ./mvnw -B -q -DskipTests -pl bench/jmh -am package
fi
exec java -cp "bench/jmh/target/classes:$(cat bench/jmh/target/classpath.txt)" org.openjdk.jmh.Main "$@"
