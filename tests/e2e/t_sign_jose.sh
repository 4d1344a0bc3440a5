# t_sign_jose.sh - a token signed by an independent JOSE implementation
# (the `jose` CLI) from the admin provisioner's private JWK, with a CSR made
# by `openssl req`, posted with curl: the server must accept it once (201)
# and refuse the replay (401 problem document).
. "$(dirname "$0")/lib.sh"

command -v jose >/dev/null 2>&1 || die "this scenario needs the 'jose' CLI"

ca_init
start_server

NAME=jose-device.example.com
jq -c .key "$PROV" >"$T/jwk.json" || die "no .key in $PROV"
KID=$(jq -r .kid "$PROV")
ISS=$(jq -r .provisioner "$PROV")
ALG=$(jq -r '.alg // "ES256"' "$T/jwk.json")

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/leaf.key" -subj "/CN=$NAME" \
    -addext "subjectAltName=DNS:$NAME" -out "$T/leaf.csr" 2>/dev/null ||
    die "openssl req failed"

now=$(date +%s)
jq -cjn --arg iss "$ISS" --arg sub "$NAME" --arg aud "$CA/1.0/sign" \
    --arg jti "$(openssl rand -hex 32)" --argjson now "$now" '
    {iss: $iss, sub: $sub, aud: $aud, sans: [$sub], nbf: $now, iat: $now,
     exp: ($now + 300), jti: $jti}' >"$T/claims.json"
jose jws sig -I "$T/claims.json" -k "$T/jwk.json" -c -o "$T/token" \
    -s "$(jq -cn --arg alg "$ALG" --arg kid "$KID" \
    '{protected: {alg: $alg, kid: $kid, typ: "JWT"}}')" ||
    die "jose jws sig failed"
TOKEN=$(tr -d '\n' <"$T/token")

jq -n --rawfile csr "$T/leaf.csr" --arg ott "$TOKEN" \
    '{csr: $csr, ott: $ott}' >"$T/req.json"

st=$(http POST "$CA/1.0/sign" "$T/resp.json" \
    -H 'Content-Type: application/json' --data-binary @"$T/req.json")
check "POST /1.0/sign with a jose-signed token answers 201 (got $st)" \
    test "$st" = 201
check "the answer has crt, ca and certChain" jq -e '
    (.crt | startswith("-----BEGIN CERTIFICATE-----")) and
    (.ca | startswith("-----BEGIN CERTIFICATE-----")) and
    (.certChain | length >= 2) and .certChain[0] == .crt' "$T/resp.json"
jq -r '.certChain[0]' "$T/resp.json" >"$T/leaf.pem"
jq -r '.certChain[1:][]' "$T/resp.json" >"$T/chain.pem"
check "the certificate verifies (-x509_strict, sslclient)" \
    openssl verify -x509_strict -purpose sslclient -CAfile "$ROOT" \
    -untrusted "$T/chain.pem" "$T/leaf.pem"
check "the certificate is for the CSR's key" test \
    "$(openssl pkey -in "$T/leaf.key" -pubout 2>/dev/null)" = \
    "$(openssl x509 -in "$T/leaf.pem" -noout -pubkey 2>/dev/null)"
check "the certificate names $NAME" test "$(sans_of "$T/leaf.pem")" = \
    "DNS:$NAME"

st=$(http POST "$CA/1.0/sign" "$T/replay.json" \
    -H 'Content-Type: application/json' --data-binary @"$T/req.json")
check "replaying the token answers 401 (got $st)" test "$st" = 401
check "... with a problem document {status,message,type,title,detail}" \
    is_problem "$T/replay.json" 401

# The same token against another authority's audience is refused.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/o.key" -subj "/CN=$NAME" -addext "subjectAltName=DNS:$NAME" \
    -out "$T/o.csr" 2>/dev/null
jq -cjn --arg iss "$ISS" --arg sub "$NAME" --arg aud "$CA/1.0/sign" \
    --arg jti "$(openssl rand -hex 32)" --argjson now "$now" '
    {iss: $iss, sub: $sub, aud: $aud, sans: [$sub], nbf: $now, iat: $now,
     exp: ($now + 300), jti: $jti}' >"$T/claims2.json"
jose jws sig -I "$T/claims2.json" -k "$T/jwk.json" -c -o "$T/token2" \
    -s "$(jq -cn --arg alg "$ALG" --arg kid "$KID" \
    '{protected: {alg: $alg, kid: $kid, typ: "JWT"}}')"
jq -n --rawfile csr "$T/o.csr" --arg ott "$(tr -d '\n' <"$T/token2")" \
    '{csr: $csr, ott: $ott}' >"$T/req2.json"
st=$(http POST "https://$HOSTPORT/t/default/agent/1.0/sign" "$T/aud.json" \
    -H 'Content-Type: application/json' --data-binary @"$T/req2.json")
check "a token for the account audience is refused by the agent authority (got $st)" \
    test "$st" = 401
check "... with a problem document" is_problem "$T/aud.json" 401

# cnf (spec §2.1): a token bound to one CSR's SHA-256 buys only that CSR.
x5rt() {
	openssl req -in "$1" -outform DER | openssl dgst -sha256 -binary |
	    base64 -w0 | tr '+/' '-_' | tr -d '='
}
cnf_token() {	# CSR-FILE-FOR-CNF OUT
	jq -cjn --arg iss "$ISS" --arg sub "$NAME" --arg aud "$CA/1.0/sign" \
	    --arg jti "$(openssl rand -hex 32)" --argjson now "$(date +%s)" \
	    --arg x5rt "$(x5rt "$1")" '
	    {iss: $iss, sub: $sub, aud: $aud, sans: [$sub], nbf: $now,
	     iat: $now, exp: ($now + 300), jti: $jti,
	     cnf: {"x5rt#S256": $x5rt}}' >"$T/cnf-claims.json"
	jose jws sig -I "$T/cnf-claims.json" -k "$T/jwk.json" -c -o "$2" \
	    -s "$(jq -cn --arg alg "$ALG" --arg kid "$KID" \
	    '{protected: {alg: $alg, kid: $kid, typ: "JWT"}}')"
}
cnf_token "$T/o.csr" "$T/cnf1"
jq -n --rawfile csr "$T/o.csr" --arg ott "$(tr -d '\n' <"$T/cnf1")" \
    '{csr: $csr, ott: $ott}' >"$T/cnf1.json"
st=$(http POST "$CA/1.0/sign" "$T/cnf1.resp" \
    -H 'Content-Type: application/json' --data-binary @"$T/cnf1.json")
check "a token whose cnf matches the CSR answers 201 (got $st)" test "$st" = 201
cnf_token "$T/leaf.csr" "$T/cnf2"
jq -n --rawfile csr "$T/o.csr" --arg ott "$(tr -d '\n' <"$T/cnf2")" \
    '{csr: $csr, ott: $ott}' >"$T/cnf2.json"
st=$(http POST "$CA/1.0/sign" "$T/cnf2.resp" \
    -H 'Content-Type: application/json' --data-binary @"$T/cnf2.json")
check "a token whose cnf names another CSR is refused with 403 (got $st)" \
    test "$st" = 403
check "... with a problem document" is_problem "$T/cnf2.resp" 403
# The same binding made by `devid token --cnf-csr`.
tok=$(mint_token "$NAME" --cnf-csr "$T/o.csr") || die "devid token --cnf-csr failed"
check "devid token --cnf-csr puts the CSR's x5rt#S256 in cnf" test \
    "$(b64url_dec "$(echo "$tok" | cut -d. -f2)" | jq -r '.cnf["x5rt#S256"]')" = \
    "$(x5rt "$T/o.csr")"

# An expired token (signed by jose with exp in the past) is refused.
jq -cjn --arg iss "$ISS" --arg sub "$NAME" --arg aud "$CA/1.0/sign" \
    --arg jti "$(openssl rand -hex 32)" --argjson now "$(date +%s)" '
    {iss: $iss, sub: $sub, aud: $aud, sans: [$sub], nbf: ($now - 900),
     iat: ($now - 900), exp: ($now - 600), jti: $jti}' >"$T/old-claims.json"
jose jws sig -I "$T/old-claims.json" -k "$T/jwk.json" -c -o "$T/old" \
    -s "$(jq -cn --arg alg "$ALG" --arg kid "$KID" \
    '{protected: {alg: $alg, kid: $kid, typ: "JWT"}}')"
jq -n --rawfile csr "$T/o.csr" --arg ott "$(tr -d '\n' <"$T/old")" \
    '{csr: $csr, ott: $ott}' >"$T/old.json"
st=$(http POST "$CA/1.0/sign" "$T/old.resp" \
    -H 'Content-Type: application/json' --data-binary @"$T/old.json")
check "an expired token answers 401 (got $st)" test "$st" = 401
# A token signed by another key with the provisioner's kid is refused.
jose jwk gen -i '{"alg":"ES256"}' -o "$T/evil.jwk"
jose jws sig -I "$T/claims2.json" -k "$T/evil.jwk" -c -o "$T/evil" \
    -s "$(jq -cn --arg alg "$ALG" --arg kid "$KID" \
    '{protected: {alg: $alg, kid: $kid, typ: "JWT"}}')"
jq -n --rawfile csr "$T/o.csr" --arg ott "$(tr -d '\n' <"$T/evil")" \
    '{csr: $csr, ott: $ott}' >"$T/evil.json"
st=$(http POST "$CA/1.0/sign" "$T/evil.resp" \
    -H 'Content-Type: application/json' --data-binary @"$T/evil.json")
check "a token signed by another key answers 401 (got $st)" test "$st" = 401

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
