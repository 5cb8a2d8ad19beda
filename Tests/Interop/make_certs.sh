#!/usr/bin/env bash
# Create a throwaway CA and a server certificate for local TLS tests with the openssl CLI.
#
# Usage: Tests/Interop/make_certs.sh DIR
# Writes into DIR (created if missing):
#   ca.pem, ca.key          self-signed CA (EC P-256, valid 30 days)
#   server.pem, server.key  server certificate signed by the CA, SAN DNS:localhost and IP:127.0.0.1
#   server-chain.pem        server.pem followed by ca.pem
# The keys are unencrypted, so use them only for tests.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

days=30
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=Tandem test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem

openssl ecparam -name prime256v1 -genkey -noout -out server.key.ec 2>/dev/null
# PKCS#8 is the form that every TLS stack under test reads.
openssl pkcs8 -topk8 -nocrypt -in server.key.ec -out server.key
rm -f server.key.ec
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr

cat > server.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -days "$days" -sha256 -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl

cat server.pem ca.pem > server-chain.pem
chmod 600 ca.key server.key

openssl verify -CAfile ca.pem server.pem >/dev/null
echo "wrote ca.pem, ca.key, server.pem, server.key, server-chain.pem to $(pwd)"
