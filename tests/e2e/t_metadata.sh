# t_metadata.sh - the read-only step-ca routes of an authority, with the
# status codes and JSON shapes step clients expect (spec/provisioners.md
# §1.3), HEAD on GET routes, routes without /1.0, and OCSP over GET.
. "$(dirname "$0")/lib.sh"

ca_init
start_server

get() {	# PATH OUT -> status
	curl -s -o "$2" -w '%{http_code}' --cacert "$ROOTS" "$CA$1"
}

st=$(get /health "$T/h.json")
check "GET /health 200 {status:ok}" test "$st:$(jq -r .status "$T/h.json")" = 200:ok
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ROOTS" "https://$HOSTPORT/health")
check "GET /health on the server root 200" test "$st" = 200
st=$(get /version "$T/v.json")
check "GET /version 200 with a version" test "$st:$(jq -r '.version | length > 0' "$T/v.json")" = 200:true
st=$(get /roots "$T/r.json")
check "GET /roots 201 {crts:[root]}" test "$st" = 201
check "... the account root" test "$(jq -r '.crts[0]' "$T/r.json" |
    openssl x509 -noout -fingerprint -sha256)" = \
    "$(openssl x509 -in "$ROOT" -noout -fingerprint -sha256)"
st=$(get /roots.pem "$T/r.pem")
check "GET /roots.pem 200 PEM" test "$st:$(openssl x509 -in "$T/r.pem" -noout -fingerprint -sha256)" = \
    "200:$(openssl x509 -in "$ROOT" -noout -fingerprint -sha256)"
sha=$(openssl x509 -in "$ROOT" -outform DER | sha256sum | cut -d' ' -f1)
st=$(get "/root/$sha" "$T/sha.json")
check "GET /root/{sha256} 200 {ca}" test "$st:$(jq -r '.ca | startswith("-----BEGIN CERTIFICATE")' "$T/sha.json")" = 200:true
SHAU=$(echo "$sha" | tr a-f A-F | sed 's/\(........\)/\1-/g; s/-$//')
st=$(get "/root/$SHAU" /dev/null)
check "GET /root/{SHA-256 upper case with dashes} 200" test "$st" = 200
st=$(get "/root/$(printf '%064d' 0)" "$T/nf.json")
check "GET /root/{unknown} 404 problem" test "$st" = 404
check "... with a problem document" is_problem "$T/nf.json" 404
st=$(get /intermediates "$T/i.json")
check "GET /intermediates 201 {crts:[intermediate]}" test "$st:$(jq -r '.crts[0]' "$T/i.json" |
    openssl x509 -noout -fingerprint -sha256)" = \
    "201:$(openssl x509 -in "$INTER" -noout -fingerprint -sha256)"
st=$(get /intermediates.pem /dev/null)
check "GET /intermediates.pem 200" test "$st" = 200
st=$(get /intermediate.crt "$T/i.der")
check "GET /intermediate.crt 200 DER (the AIA caIssuers URL)" test \
    "$st:$(openssl x509 -inform DER -in "$T/i.der" -noout -fingerprint -sha256)" = \
    "200:$(openssl x509 -in "$INTER" -noout -fingerprint -sha256)"
st=$(get /provisioners "$T/p.json")
check "GET /provisioners 200 lists admin (JWK) and devices (X5C)" test \
    "$st:$(jq -c '[.provisioners[] | [.type, .name]]' "$T/p.json")" = \
    '200:[["JWK","admin"],["X5C","devices"]]'
check "... with nextCursor" test "$(jq -r '.nextCursor' "$T/p.json")" = ""
st=$(get "/provisioners?limit=1" "$T/p1.json")
check "GET /provisioners?limit=1 pages (nextCursor set)" test \
    "$st:$(jq -r '.provisioners | length' "$T/p1.json"):$(jq -r '.nextCursor != ""' "$T/p1.json")" = 200:1:true
cur=$(jq -r .nextCursor "$T/p1.json")
st=$(get "/provisioners?limit=1&cursor=$cur" "$T/p2.json")
check "... and the next page has the second" test \
    "$st:$(jq -r '.provisioners[0].name' "$T/p2.json")" = 200:devices
st=$(get "/provisioners?limit=abc" "$T/pb.json")
check "GET /provisioners?limit=abc 400" test "$st" = 400
st=$(curl -s -I -o "$T/head.txt" -w '%{http_code}' --cacert "$ROOTS" "$CA/roots.pem")
check "HEAD /roots.pem 200 without a body" test "$st" = 200
st=$(get /1.0/roots "$T/r10.json")
check "GET /1.0/roots is the same route (201)" test "$st" = 201

# OCSP over GET (RFC 6960 A.1): base64 of the DER request in the path.
check "a certificate to ask about" issue ocsp.example.com "$T/o.crt" "$T/o.key"
leaf_of "$T/o.crt" "$T/o.leaf"
openssl ocsp -issuer "$INTER" -cert "$T/o.leaf" -no_nonce -reqout "$T/req.der" \
    >/dev/null 2>&1 || die "openssl ocsp -reqout failed"
b64=$(base64 -w0 <"$T/req.der" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))')
st=$(get "/ocsp/$b64" "$T/resp.der")
check "GET /ocsp/{base64 request} 200" test "$st" = 200
r=$(openssl ocsp -respin "$T/resp.der" -issuer "$INTER" -cert "$T/o.leaf" \
    -CAfile "$ROOT" -VAfile "$INTER" 2>&1 | awk -F': ' '/o.leaf:/ { print $2 }')
check "... says good (got '$r')" test "$r" = good
st=$(get "/ocsp/not-base64%21" "$T/bad.der")
check "GET /ocsp/{garbage} 200 with malformedRequest" test "$st" = 200
check "... which openssl reads as malformedrequest" grep -qi malformed \
    <<<"$(openssl ocsp -respin "$T/bad.der" -resp_text -noverify 2>&1)"
# A second server on the same address must not join the first one's
# SO_REUSEPORT group (it would take half of its connections).
"$DEVID_CA" init --data "$T/data2" --listen "$HOSTPORT" >/dev/null 2>&1 ||
    die "second devid-ca init failed"
timeout 20 "$DEVID_CA" serve --data "$T/data2" >"$T/second.log" 2>&1
st=$?
check "a second devid-ca serve on the same port exits non-zero (got $st)" \
    test "$st" -ne 0 -a "$st" -ne 124
check "... saying the address is in use" grep -q "Address already in use" "$T/second.log"
ok=0
for i in $(seq 1 20); do
	healthy && ok=$((ok + 1))
done
check "... and the first one still answers every connection (20/20: $ok)" test "$ok" = 20
check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
