#!/usr/bin/env bash
# Makes a CA, a server certificate and a client certificate for trying TLS locally:
#   DIR/ca.pem, DIR/ca-key.pem, DIR/server.pem, DIR/server-key.pem, DIR/client.pem, DIR/client-key.pem
# The server certificate names localhost, 127.0.0.1 and ::1 and this host's name.
set -euo pipefail
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=825
openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj "/CN=hostvisor test CA" \
  -keyout ca-key.pem -out ca.pem 2>/dev/null
make_cert() { # name, subject, extensions
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
make_cert server "/CN=$(hostname)" \
  "subjectAltName=DNS:localhost,DNS:$(hostname),IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
make_cert client "/CN=hostvisor client" "extendedKeyUsage=clientAuth"
rm -f ca.srl
chmod 0600 ./*-key.pem
echo "certificates in $dir: ca.pem, server.pem + server-key.pem, client.pem + client-key.pem"
