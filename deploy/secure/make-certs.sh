#!/usr/bin/env bash
# Certificates and client settings for the secured compose cluster (docker-compose.secure.yml), made with the JDK's
# keytool (EC P-256 keys, as docs/security.md "Making a CA and certificates"):
#
#   deploy/secure/make-certs.sh [DIR]        default DIR: deploy/secure/certs (the directory the overlay mounts)
#
# DIR gets (PKCS12 stores, password $FLUXMQ_STORE_PASSWORD, default fluxmq-dev, the overlay's default too):
#   ca.p12                    the cluster CA's key: nothing mounts it, keep it (or move it away) to sign more
#   ca.pem, truststore.p12    the CA's certificate, for kcat / the Java clients and the nodes' trust store
#   node0.p12 .. node2.p12    each node's key and certificate (CN=nodeN,OU=nodes) with the chain; subject alternative
#                             names nodeN (peers and clients on the compose network), localhost and 127.0.0.1 (clients
#                             on the host through the published ports)
#   operator.p12              a certificate of the cluster CA for fluxmq-admin (CN=operator,OU=admins)
#   control.properties        fluxmq-admin --control-config inside a container (paths under /etc/fluxmq/certs)
#   command.properties        Kafka client settings (SASL_SSL, PLAIN user admin) inside a container: fluxmq-admin
#                             --command-config, clients on the compose network (INTERNAL listener, nodeN:19092)
#   client-plain.properties   the same for clients on the host (paths of DIR): PLAIN user admin
#   client-scram.properties   the same with SCRAM-SHA-512 user alice (who exists once added, docs/security.md)
# The SASL passwords in the properties files are the overlay's defaults ($FLUXMQ_ADMIN_PASSWORD, default
# admin-secret; $FLUXMQ_ALICE_PASSWORD, default alice-secret).
#
# Refuses a DIR that already has a CA (FORCE=1 replaces everything in it). The stores must be readable by the
# containers' user (uid 10001, FLUXMQ_UID): run as root, the files are given to its group with mode 640; otherwise
# they are made readable by all (644): on a shared host keep DIR in a private directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-$here/certs}"
pw="${FLUXMQ_STORE_PASSWORD:-fluxmq-dev}"
admin_pw="${FLUXMQ_ADMIN_PASSWORD:-admin-secret}"
alice_pw="${FLUXMQ_ALICE_PASSWORD:-alice-secret}"
uid="${FLUXMQ_UID:-10001}"
validity="${CERT_VALIDITY_DAYS:-825}"
in_container=/etc/fluxmq/certs

command -v keytool >/dev/null 2>&1 || { echo "keytool (Java 17) is not on PATH" >&2; exit 1; }
if [ -e "$dir/ca.p12" ] && [ "${FORCE:-0}" != 1 ]; then
  echo "$dir already has a CA (ca.p12); FORCE=1 replaces every file in it" >&2
  exit 1
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
rm -f "$dir"/*.p12 "$dir"/*.pem "$dir"/*.csr "$dir"/*.crt "$dir"/*.properties

# quiet unless it fails; C1 only: each call is a short JVM run
kt() {
  local out
  out="$(keytool -J-XX:TieredStopAtLevel=1 -storetype PKCS12 -storepass "$pw" "$@" 2>&1)" \
    || { echo "keytool $1 failed: $out" >&2; return 1; }
}

# the CA, its certificate as PEM, and a trust store holding only it
kt -genkeypair -alias ca -dname "CN=FluxMQ compose CA" -ext bc:c -keyalg EC -groupname secp256r1 \
  -validity "$validity" -keystore "$dir/ca.p12"
kt -exportcert -rfc -alias ca -keystore "$dir/ca.p12" -file "$dir/ca.pem"
kt -importcert -noprompt -alias ca -file "$dir/ca.pem" -keystore "$dir/truststore.p12"

# a key store with a key and a certificate the CA signed, the chain included
signed() { # name dname [san]
  local name="$1" dname="$2" san="${3:-}" ext=()
  [ -n "$san" ] && ext=(-ext "SAN=$san")
  kt -genkeypair -alias "$name" -dname "$dname" -keyalg EC -groupname secp256r1 -validity "$validity" \
    -keystore "$dir/$name.p12"
  kt -certreq -alias "$name" -keystore "$dir/$name.p12" -file "$dir/$name.csr"
  kt -gencert -alias ca -keystore "$dir/ca.p12" -infile "$dir/$name.csr" -outfile "$dir/$name.crt" -rfc \
    -validity "$validity" "${ext[@]}"
  kt -importcert -noprompt -alias ca -file "$dir/ca.pem" -keystore "$dir/$name.p12"
  kt -importcert -alias "$name" -file "$dir/$name.crt" -keystore "$dir/$name.p12"
  rm -f "$dir/$name.csr" "$dir/$name.crt"
}
for n in 0 1 2; do
  signed "node$n" "CN=node$n,OU=nodes" "DNS:node$n,DNS:localhost,IP:127.0.0.1"
done
signed operator "CN=operator,OU=admins"

jaas() { # module user password
  echo "sasl.jaas.config=org.apache.kafka.common.security.$1 required username=\"$2\" password=\"$3\";"
}
cat > "$dir/control.properties" <<EOF
# fluxmq-admin --control-config (cluster TLS), inside a container with the certificates at $in_container
security.protocol=SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$in_container/operator.p12
ssl.keystore.password=$pw
ssl.truststore.type=PKCS12
ssl.truststore.location=$in_container/truststore.p12
ssl.truststore.password=$pw
EOF
client() { # truststore-dir mechanism module user password
  cat <<EOF
security.protocol=SASL_SSL
sasl.mechanism=$2
$(jaas "$3" "$4" "$5")
ssl.truststore.type=PKCS12
ssl.truststore.location=$1/truststore.p12
ssl.truststore.password=$pw
EOF
}
{ echo "# Kafka clients inside a container (compose network, INTERNAL listener nodeN:19092): PLAIN user admin"
  client "$in_container" PLAIN plain.PlainLoginModule admin "$admin_pw"; } > "$dir/command.properties"
{ echo "# Kafka clients on the host (127.0.0.1:9092-9094): PLAIN user admin"
  client "$dir" PLAIN plain.PlainLoginModule admin "$admin_pw"; } > "$dir/client-plain.properties"
{ echo "# Kafka clients on the host (127.0.0.1:9092-9094): SCRAM-SHA-512 user alice (add her first, docs/security.md)"
  client "$dir" SCRAM-SHA-512 scram.ScramLoginModule alice "$alice_pw"; } > "$dir/client-scram.properties"

chmod 755 "$dir"
if [ "$(id -u)" = 0 ] && chgrp "$uid" "$dir"/* 2>/dev/null; then
  chmod 640 "$dir"/*
else
  chmod 644 "$dir"/*
fi
chmod 600 "$dir/ca.p12"   # the CA's key: no container reads it
echo "certificates for node0..node2 and the operator, signed by a new CA, in $dir"
