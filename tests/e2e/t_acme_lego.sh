# t_acme_lego.sh - lego (a real ACME client) gets a certificate from the
# Agent CA's ACME server over http-01 on loopback, then revokes it
# (RFC 8555 §7.3, §7.4, §7.6; spec interop.md §2.2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.sh"

command -v lego >/dev/null 2>&1 || die "lego is not installed (make deps)"
acme_setup
export LEGO_CA_CERTIFICATES="$ROOTS"
L="lego --server $DIR --accept-tos --email ops@example.org --path $T/lego"

check "lego run: http-01, certificate issued" \
    timeout 120 $L --key-type ec256 --domains lego.test \
    --http --http.port "127.0.0.1:$HTTP01_PORT" run
C="$T/lego/certificates"
check "the chain verifies to the Agent CA root" \
    verify_chain "$C/lego.test.crt" "$C/lego.test.issuer.crt"
check "the certificate names lego.test" \
    sh -c "openssl x509 -in '$C/lego.test.crt' -noout -ext subjectAltName | grep -q 'DNS:lego.test'"
serial=$(openssl x509 -in "$C/lego.test.crt" -noout -serial | cut -d= -f2)

check "lego run again with two names and an RSA key" \
    timeout 120 $L --key-type rsa2048 --domains a.lego.test \
    --domains b.lego.test --http --http.port "127.0.0.1:$HTTP01_PORT" run
check "the RSA chain verifies" \
    verify_chain "$C/a.lego.test.crt" "$C/a.lego.test.issuer.crt"

check "lego revoke" timeout 60 $L -d lego.test revoke
# the revocation is in the CRL of the Agent CA
curl -fsS --cacert "$ROOTS" -o "$T/crl.der" \
    "https://$HOSTPORT/t/default/agent/crl" || fail "GET crl"
check "the CRL lists the revoked serial" \
    sh -c "openssl crl -inform DER -in '$T/crl.der' -noout -text | tr -d ' :' | grep -qi 'SerialNumber$serial'"
finish
