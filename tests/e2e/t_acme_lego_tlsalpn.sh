# t_acme_lego_tlsalpn.sh - lego gets a certificate over tls-alpn-01 (RFC
# 8737) from the Agent CA's ACME server on loopback: the provisioner's
# tlsAlpnPort is lego's --tls.port and every name resolves to 127.0.0.1.
# A second provisioner validates against an openssl s_server that selects
# acme-tls/1 but shows a certificate without the acmeIdentifier extension:
# the order becomes invalid (unauthorized).
. "$(dirname "$0")/lib.sh"

command -v lego >/dev/null 2>&1 || die "lego is not installed (make deps)"
ca_init
TLS_PORT=$(free_port)
BAD_PORT=$(free_port)
jq --argjson tp "$TLS_PORT" --argjson bp "$BAD_PORT" '
    .teams.default.authorities.agent.provisioners |= (map(
      if .type == "ACME" and .name == "acme" then
        . + {"challenges": ["tls-alpn-01"], "tlsAlpnPort": $tp,
             "resolve": {"*": "127.0.0.1"}}
      else . end) as $p | $p + [$p[] | select(.type == "ACME" and
        .name == "acme") | . + {"name": "acme-bad", "tlsAlpnPort": $bp}])
    ' "$T/data/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$T/data/config.json" ||
    die "cannot configure the ACME provisioners"
start_server
DIR="https://$HOSTPORT/t/default/agent/acme/acme/directory"
BAD_DIR="https://$HOSTPORT/t/default/agent/acme/acme-bad/directory"
AGENT_ROOT="$T/data/certs/agent-root.crt"
export LEGO_CA_CERTIFICATES="$ROOTS"
L="lego --accept-tos --email ops@example.org"

check "lego run: tls-alpn-01, certificate issued" \
    timeout 120 $L --path "$T/lego" --server "$DIR" --key-type ec256 \
    --domains alpn.lego.test --tls --tls.port "127.0.0.1:$TLS_PORT" run
C="$T/lego/certificates"
check "the chain verifies to the Agent CA root" \
    openssl verify -CAfile "$AGENT_ROOT" -untrusted \
    "$C/alpn.lego.test.issuer.crt" "$C/alpn.lego.test.crt"
check "the certificate names alpn.lego.test" \
    sh -c "openssl x509 -in '$C/alpn.lego.test.crt' -noout -ext subjectAltName | grep -q 'DNS:alpn.lego.test'"

# acme-tls/1 selected, the right SAN, no acmeIdentifier extension
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/bad.key" -out "$T/bad.crt" -days 1 -subj "/CN=bad.lego.test" \
    -addext "subjectAltName=DNS:bad.lego.test" >/dev/null 2>&1 ||
    die "cannot make the s_server certificate"
openssl s_server -accept "127.0.0.1:$BAD_PORT" -cert "$T/bad.crt" \
    -key "$T/bad.key" -alpn acme-tls/1 -quiet </dev/null \
    >"$T/s_server.log" 2>&1 &
S_PID=$!
trap 'st=$?; kill "$S_PID" 2>/dev/null; (exit $st); on_exit' EXIT
timeout 120 $L --path "$T/lego-bad" --server "$BAD_DIR" \
    --key-type ec256 \
    --domains bad.lego.test --tls --tls.port "127.0.0.1:$(free_port)" \
    run >"$T/lego-bad.out" 2>&1
check "no acmeIdentifier extension: lego fails" test $? -ne 0
check "the order is invalid with unauthorized" \
    grep -q 'urn:ietf:params:acme:error:unauthorized' "$T/lego-bad.out"
check "no certificate for bad.lego.test" \
    test ! -e "$T/lego-bad/certificates/bad.lego.test.crt"
finish
