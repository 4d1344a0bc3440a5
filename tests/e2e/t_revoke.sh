# t_revoke.sh - revocation (spec/provisioners.md §1.7) by token and by mTLS;
# the serials appear in /crl and OCSP says "revoked"; refusals have the
# documented status codes.
. "$(dirname "$0")/lib.sh"

ca_init
start_server

for n in a b c d e; do
	issue "$n.revoke.example.com" "$T/$n.crt" "$T/$n.key" >/dev/null ||
	    die "devid certificate $n failed"
	leaf_of "$T/$n.crt" "$T/$n.leaf"
done
SA=$(serial_of "$T/a.leaf")
SB=$(serial_of "$T/b.leaf")
HEXA=$(openssl x509 -in "$T/a.leaf" -noout -serial | cut -d= -f2)
HEXB=$(openssl x509 -in "$T/b.leaf" -noout -serial | cut -d= -f2)

# 1. By token (minted by the CLI from the provisioner key).
check "devid revoke SERIAL --key PROV (token)" "$DEVID" revoke "$SA" \
    --ca-url "$CA" --root "$ROOTS" --key "$PROV" --reason-code 1 \
    --reason "key lost"
"$DEVID" revoke "$SA" --ca-url "$CA" --root "$ROOTS" --key "$PROV" \
    2>"$T/again.err"
check "a second revocation fails" test $? -eq 1
check "... with 400 (already revoked)" grep -q 'answered 400' "$T/again.err"

# 2. By mTLS with the certificate itself (hex serial on the command line).
check "devid revoke 0xHEX --cert --key (mTLS)" "$DEVID" revoke "0x$HEXB" \
    --ca-url "$CA" --root "$ROOTS" --cert "$T/b.crt" --key "$T/b.key"

# 2b. By a token from `devid token --revoke`, passed with --token.
SE=$(serial_of "$T/e.leaf")
tok=$("$DEVID" token --revoke "$SE" --ca-url "$CA" --key "$PROV") ||
    die "devid token --revoke failed"
check "revoke token claims: sub = serial, aud = /1.0/revoke, no sans" \
    jq -e --arg s "$SE" --arg aud "$CA/1.0/revoke" \
    '.sub == $s and .aud == $aud and has("sans") == false' \
    <<<"$(b64url_dec "$(echo "$tok" | cut -d. -f2)")"
check "devid revoke SERIAL --token" "$DEVID" revoke "$SE" --ca-url "$CA" \
    --root "$ROOTS" --token "$tok" --reason-code 4

# 3. The CRL.
st=$(http GET "$CA/crl" "$T/crl.der")
check "GET /crl answers 200 (got $st)" test "$st" = 200
openssl crl -inform DER -in "$T/crl.der" -noout -text >"$T/crl.txt" 2>&1
check "the CRL parses (openssl crl -inform DER -text)" \
    grep -q 'Certificate Revocation List' "$T/crl.txt"
check "the token-revoked serial is in the CRL" \
    grep -q "Serial Number: $HEXA" "$T/crl.txt"
check "the mTLS-revoked serial is in the CRL" \
    grep -q "Serial Number: $HEXB" "$T/crl.txt"
check "reason keyCompromise is recorded" grep -q 'Key Compromise' "$T/crl.txt"
check "reason superseded is recorded" grep -q 'Superseded' "$T/crl.txt"
check "the --token-revoked serial is in the CRL" grep -q "Serial Number: \
$(openssl x509 -in "$T/e.leaf" -noout -serial | cut -d= -f2)" "$T/crl.txt"
check "unrevoked c is not in the CRL" bash -c "! grep -q \
    'Serial Number: $(openssl x509 -in "$T/c.leaf" -noout -serial | cut -d= -f2)' \
    '$T/crl.txt'"
cat "$INTER" "$ROOT" >"$T/cas.pem"
check "the CRL's signature verifies with the intermediate" bash -c \
    "openssl crl -inform DER -in '$T/crl.der' -noout -CAfile '$T/cas.pem' 2>&1 |
    grep -q 'verify OK'"
st=$(http GET "$CA/crl?pem" "$T/crl.pem")
check "GET /crl?pem answers 200 PEM (got $st)" grep -q 'BEGIN X509 CRL' "$T/crl.pem"

# 4. OCSP (RFC 6960) over HTTPS: the request made by openssl, carried by
#    curl, the response checked by openssl.
ocsp_status() {	# LEAF -> "good" / "revoked" / "unknown" / error
	local leaf=$1 base=$2
	openssl ocsp -issuer "$INTER" -cert "$leaf" -no_nonce \
	    -reqout "$T/$base.req" >/dev/null 2>&1 || return 1
	local st
	st=$(http POST "$CA/ocsp" "$T/$base.resp" \
	    -H 'Content-Type: application/ocsp-request' \
	    --data-binary @"$T/$base.req")
	[ "$st" = 200 ] || { echo "http-$st"; return 1; }
	openssl ocsp -respin "$T/$base.resp" -issuer "$INTER" -cert "$leaf" \
	    -CAfile "$ROOT" -verify_other "$INTER" -no_nonce \
	    >"$T/$base.txt" 2>&1 || { echo "unverified"; return 1; }
	grep -q 'Response verify OK' "$T/$base.txt" || { echo unverified; return 1; }
	sed -n "s|^$leaf: ||p" "$T/$base.txt" | head -1
}
r=$(ocsp_status "$T/a.leaf" oa)
check "OCSP says a is revoked (got '$r')" test "$r" = revoked
r=$(ocsp_status "$T/b.leaf" ob)
check "OCSP says b is revoked (got '$r')" test "$r" = revoked
r=$(ocsp_status "$T/c.leaf" oc)
check "OCSP says c is good (got '$r')" test "$r" = good
# The same through openssl's own HTTP(S) client.
openssl ocsp -issuer "$INTER" -cert "$T/a.leaf" -url "$CA/ocsp" \
    -CAfile "$ROOT" -verify_other "$INTER" >"$T/ocsp-url.txt" 2>&1
check "openssl ocsp -url $CA/ocsp says revoked" \
    grep -q "$T/a.leaf: revoked" "$T/ocsp-url.txt"

# 5. A revoked certificate neither renews nor revokes again.
st=$(http POST "$CA/1.0/renew" "$T/rr.json" --cert "$T/a.crt" --key "$T/a.key")
check "renewing a revoked certificate answers 401 (got $st)" test "$st" = 401

# 6. Refusals.
# c over mTLS may not revoke d.
SD=$(serial_of "$T/d.leaf")
st=$(http POST "$CA/1.0/revoke" "$T/x.json" --cert "$T/c.crt" --key "$T/c.key" \
    -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg s "$SD" '{serial: $s, ott: "", reasonCode: 0, passive: true}')")
check "mTLS revocation of another certificate answers 403 (got $st)" \
    test "$st" = 403
check "... with a problem document" is_problem "$T/x.json" 403
# A token for c does not revoke d.
tok=$("$DEVID" token --revoke "$(serial_of "$T/c.leaf")" --ca-url "$CA" --key "$PROV")
st=$(http POST "$CA/1.0/revoke" "$T/y.json" -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg s "$SD" --arg t "$tok" '{serial: $s, ott: $t, reasonCode: 0, passive: true}')")
check "a token whose sub is another serial answers 403 (got $st)" \
    test "$st" = 403
tok=$("$DEVID" token --revoke "$SD" --ca-url "$CA" --key "$PROV")
st=$(http POST "$CA/1.0/revoke" "$T/z.json" -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg s "$SD" --arg t "$tok" '{serial: $s, ott: $t, reasonCode: 0, passive: false}')")
check "passive: false answers 501 (got $st)" test "$st" = 501
tok=$("$DEVID" token --revoke "$SD" --ca-url "$CA" --key "$PROV")
st=$(http POST "$CA/1.0/revoke" "$T/w.json" -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg s "$SD" --arg t "$tok" '{serial: $s, ott: $t, reasonCode: 11, passive: true}')")
check "reasonCode 11 answers 400 (got $st)" test "$st" = 400
st=$(http POST "$CA/1.0/revoke" "$T/v.json" -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg s "$SD" '{serial: $s, ott: "", reasonCode: 0, passive: true}')")
check "no token and no client certificate answers 401 (got $st)" \
    test "$st" = 401
r=$(ocsp_status "$T/d.leaf" od)
check "d is still good after the refused attempts (got '$r')" test "$r" = good

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
