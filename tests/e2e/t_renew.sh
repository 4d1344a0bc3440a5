# t_renew.sh - renewal (spec/provisioners.md §1.5) over mTLS with curl and
# with `devid renew`, and with an x5cInsecure bearer token: 201, same SANs,
# a new serial, a certificate that verifies.
. "$(dirname "$0")/lib.sh"

ca_init
start_server

issue renew-me.example.com "$T/a.crt" "$T/a.key" --san renew-me.example.com \
    --san 192.0.2.10 --not-after 2h >/dev/null || die "devid certificate failed"
leaf_of "$T/a.crt" "$T/a.leaf"
S0=$(serial_of "$T/a.leaf")
SANS0=$(sans_of "$T/a.leaf")

lifetime() {
	local nb na
	nb=$(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
	echo $((na - nb))
}
L0=$(lifetime "$T/a.leaf")

# verify_renewed LEAF CHAIN LABEL: same names, new serial, same lifetime.
verify_renewed() {
	local leaf=$1 chain=$2 label=$3 s l
	check "$label: verifies (-x509_strict, sslclient)" openssl verify \
	    -x509_strict -purpose sslclient -CAfile "$ROOT" -untrusted "$chain" \
	    "$leaf"
	check "$label: same SANs" test "$(sans_of "$leaf")" = "$SANS0"
	s=$(serial_of "$leaf")
	check "$label: new serial ($s, was $S0)" test -n "$s" -a "$s" != "$S0"
	l=$(lifetime "$leaf")
	check "$label: same lifetime (${l}s, was ${L0}s)" \
	    test $((l - L0)) -ge -60 -a $((l - L0)) -le 60
	check "$label: same subject" test \
	    "$(openssl x509 -in "$leaf" -noout -subject)" = \
	    "$(openssl x509 -in "$T/a.leaf" -noout -subject)"
}

# 1. curl over mTLS.
st=$(http POST "$CA/1.0/renew" "$T/r1.json" --cert "$T/a.crt" \
    --key "$T/a.key")
check "curl mTLS POST /1.0/renew answers 201 (got $st)" test "$st" = 201
if [ "$st" = 201 ]; then
	jq -r '.certChain[0]' "$T/r1.json" >"$T/r1.leaf"
	jq -r '.certChain[1:][]' "$T/r1.json" >"$T/r1.chain"
	verify_renewed "$T/r1.leaf" "$T/r1.chain" "curl renew"
	check "curl renew: same key" test \
	    "$(openssl x509 -in "$T/r1.leaf" -noout -pubkey)" = \
	    "$(openssl x509 -in "$T/a.leaf" -noout -pubkey)"
fi

# 2. devid renew (mTLS) to another file.
check "devid renew --out" "$DEVID" renew "$T/a.crt" "$T/a.key" \
    --ca-url "$CA" --root "$ROOTS" --out "$T/r2.crt"
if [ -s "$T/r2.crt" ]; then
	leaf_of "$T/r2.crt" "$T/r2.leaf"
	rest_of "$T/r2.crt" "$T/r2.chain"
	verify_renewed "$T/r2.leaf" "$T/r2.chain" "devid renew"
fi
check "devid renew refuses to overwrite --out without --force" \
    test "$(status_of "$DEVID" renew "$T/a.crt" "$T/a.key" --ca-url "$CA" \
    --root "$ROOTS" --out "$T/r2.crt")" = 1

# 3. devid renew --token-auth (x5cInsecure bearer token, no client cert).
check "devid renew --token-auth" "$DEVID" renew "$T/a.crt" "$T/a.key" \
    --ca-url "$CA" --root "$ROOTS" --token-auth --out "$T/r3.crt"
if [ -s "$T/r3.crt" ]; then
	leaf_of "$T/r3.crt" "$T/r3.leaf"
	rest_of "$T/r3.crt" "$T/r3.chain"
	verify_renewed "$T/r3.leaf" "$T/r3.chain" "token renew"
fi

# 4. A renewed certificate renews again (in place: CRT is replaced).
cp "$T/r2.crt" "$T/chain2.crt" 2>/dev/null
check "renewing the renewed certificate in place" "$DEVID" renew \
    "$T/chain2.crt" "$T/a.key" --ca-url "$CA" --root "$ROOTS"
check "... CRT now holds a third serial" test \
    "$(serial_of "$T/chain2.crt")" != "$(serial_of "$T/r2.leaf")"

# 5. Refusals.
st=$(http POST "$CA/1.0/renew" "$T/nocert.json")
check "renew without a client certificate answers 401 (got $st)" \
    test "$st" = 401
check "... with a problem document" is_problem "$T/nocert.json" 401
st=$(http POST "$CA/1.0/renew" "$T/badtok.json" \
    -H 'Authorization: Bearer not.a.token')
check "renew with a garbage bearer token answers 401 (got $st)" \
    test "$st" = 401
# A certificate of another authority (agent) is not renewed by account.
"$DEVID" certificate agent-1 "$T/ag.crt" "$T/ag.key" \
    --ca-url "https://$HOSTPORT/t/default/agent" --root "$ROOTS" \
    --key "$PROV" >/dev/null || die "agent certificate failed"
st=$(http POST "$CA/1.0/renew" "$T/other.json" --cert "$T/ag.crt" \
    --key "$T/ag.key")
check "the account authority refuses to renew an agent certificate (got $st)" \
    test "$st" = 401

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
