# t_acme_dehydrated.sh - dehydrated (curl-based client) registers, gets a
# certificate over http-01 (its WELLKNOWN folder served by python3
# http.server on the http-01 port) and revokes it (spec interop.md §2.5).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.sh"

command -v dehydrated >/dev/null 2>&1 ||
    die "dehydrated is not installed (make deps)"
acme_setup
W="$T/webroot/.well-known/acme-challenge"
mkdir -p "$W" "$T/dh"
python3 -m http.server "$HTTP01_PORT" --bind 127.0.0.1 \
    --directory "$T/webroot" >"$T/web.log" 2>&1 &
WEB_PID=$!
trap 'kill $WEB_PID 2>/dev/null; on_exit' EXIT
for i in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP01_PORT/" && break
	sleep 0.1
done
cat >"$T/dh/config" <<CFG
CA="$DIR"
BASEDIR="$T/dh"
WELLKNOWN="$W"
CHALLENGETYPE="http-01"
OCSP_FETCH="no"
OCSP_MUST_STAPLE="no"
KEY_ALGO="prime256v1"
CONTACT_EMAIL="ops@example.org"
CFG
export CURL_CA_BUNDLE="$ROOTS"
D="dehydrated -f $T/dh/config"
check "dehydrated --register --accept-terms" \
    timeout 120 $D --register --accept-terms
check "dehydrated -c -d dehydrated.test" \
    timeout 180 $D -c -d dehydrated.test
C="$T/dh/certs/dehydrated.test"
check "the chain verifies to the Agent CA root" \
    verify_chain "$C/cert.pem" "$C/chain.pem"
check "dehydrated --revoke" timeout 120 $D --revoke "$C/cert.pem"
finish
