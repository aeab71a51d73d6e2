#!/usr/bin/env bash
# Builds a JRE base image for deploy/Dockerfile without any image registry: Debian's debootstrap fetches a minimal
# Debian with OpenJDK 17 (headless JRE) from an apt mirror (or a local one: DEBIAN_MIRROR), and `docker import`
# turns that root file system into an image. For air-gapped sites and for machines that cannot pull
# eclipse-temurin:17-jre. Needs root, debootstrap and a running Docker engine.
#
#   deploy/base-image/build.sh [TAG]          default TAG: fluxmq/jre-base:17-bookworm
#   docker build -f deploy/Dockerfile --build-arg BASE_IMAGE=fluxmq/jre-base:17-bookworm -t fluxmq:dev .
#
# Environment: DEBIAN_SUITE (bookworm), DEBIAN_MIRROR (http://deb.debian.org/debian), FORCE=1 rebuilds an existing tag.
set -euo pipefail
tag="${1:-fluxmq/jre-base:17-bookworm}"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag exists (FORCE=1 rebuilds it)"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 1; }

root="$(mktemp -d "${TMPDIR:-/tmp}/fluxmq-base.XXXXXX")"
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# what an image does not need: apt caches and lists, docs, man pages
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
jvm="$(cd "$root/usr/lib/jvm" && ls -d java-17-openjdk-* | head -1)"
[ -x "$root/usr/lib/jvm/$jvm/bin/java" ] || { echo "no JRE found in the debootstrapped tree" >&2; exit 1; }
java_home="/usr/lib/jvm/$jvm"
tar -C "$root" -c . | docker import \
  --change "ENV JAVA_HOME=$java_home" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$tag" >/dev/null
echo "built base image $tag (Debian $suite, $jvm) in $(( $(date +%s) - start )) s"
