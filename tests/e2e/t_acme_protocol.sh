# t_acme_protocol.sh - the ACME server's protocol rules and refusals, each
# with its RFC 8555 error type, driven by acme_client.py (a client written
# for this test): nonces, url, kid/jwk, unknown and deactivated accounts,
# finalize before ready, oversized and malformed JWS, concurrent
# finalizes, revocation, key rollover, renewalInfo (RFC 9773).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.sh"

python3 -c 'import cryptography' 2>/dev/null ||
    die "python3-cryptography is not installed (make deps)"
acme_setup
T="$T" timeout 300 python3 "$(dirname "$0")/acme_client.py" "$DIR" "$ROOTS" \
    "$HTTP01_PORT" >"$T/client.out" 2>&1
st=$?
cat "$T/client.out"
PASSES=$((PASSES + $(grep -c '^ok - ' "$T/client.out")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$T/client.out")))
[ "$st" -eq 0 ] || fail "acme_client.py exited with status $st"
check "the issued chain verifies to the Agent CA root" \
    sh -c "csplit -s -z -f '$T/pc' '$T/proto-chain.pem' '/BEGIN CERT/' '{*}' &&
    openssl verify -CAfile '$AGENT_ROOT' -untrusted '$T/pc01' '$T/pc00' >/dev/null"

# an unknown challenge type stops the server at start
check "server stops cleanly" stop_server
jq '.teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" then .challenges = ["dns-02"] else . end)' \
    "$T/data/config.json" >"$T/config.new" && mv "$T/config.new" "$T/data/config.json"
timeout 20 "$DEVID_CA" serve --data "$T/data" >"$T/bad.log" 2>&1
st=$?
check "an unknown challenge type refuses to serve" \
    sh -c "[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q acme.config '$T/bad.log'"
finish
