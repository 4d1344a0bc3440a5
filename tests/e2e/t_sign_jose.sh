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

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
