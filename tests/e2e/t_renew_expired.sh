# t_renew_expired.sh - renewal after expiry (spec/provisioners.md §1.5):
# with the provisioner claim allowRenewalAfterExpiry, an expired
# certificate renews with the x5cInsecure bearer token (never over mTLS);
# without the claim it is refused.
. "$(dirname "$0")/lib.sh"

ca_init
# Short certificates: the admin JWK of the account authority allows 5 s
# minimum and renewal after expiry; the agent authority keeps the defaults.
jq '.teams.default.authorities.account.provisioners[0].claims =
    {"minTLSCertDuration":"5s","allowRenewalAfterExpiry":true}
  | .teams.default.authorities.agent.provisioners[0].claims =
    {"minTLSCertDuration":"5s"}' \
    "$T/data/config.json" >"$T/config.json" &&
    cp "$T/config.json" "$T/data/config.json" || die "cannot edit config"
start_server
AGENT="https://$HOSTPORT/t/default/agent"

check "a 12 s account certificate" issue short.example.com "$T/a.crt" \
    "$T/a.key" --not-after 12s
check "a 12 s agent certificate" "$DEVID" certificate short-agent "$T/g.crt" \
    "$T/g.key" --ca-url "$AGENT" --root "$ROOTS" --key "$PROV" --not-after 12s
leaf_of "$T/a.crt" "$T/a.leaf"
old=$(serial_of "$T/a.leaf")
sleep 14
check "the certificate has expired" bash -c "! openssl x509 -in '$T/a.leaf' \
    -noout -checkend 0 >/dev/null"

st=$(curl -s -o "$T/mtls.json" -w '%{http_code}' --cacert "$ROOTS" \
    --cert "$T/a.crt" --key "$T/a.key" -X POST "$CA/1.0/renew")
check "mTLS renewal of an expired certificate answers 401 (got $st)" \
    test "$st" = 401
check "... with a problem document" is_problem "$T/mtls.json" 401

check "devid renew --token-auth renews the expired certificate" "$DEVID" \
    renew "$T/a.crt" "$T/a.key" --ca-url "$CA" --root "$ROOTS" \
    --token-auth --out "$T/b.crt"
leaf_of "$T/b.crt" "$T/b.leaf"
check "... with a new serial" test "$(serial_of "$T/b.leaf")" != "$old"
check "... that is valid now" openssl x509 -in "$T/b.leaf" -noout -checkend 5
check "... for the same names" test "$(sans_of "$T/b.leaf")" = \
    "$(sans_of "$T/a.leaf")"

check "without allowRenewalAfterExpiry (agent) the token is refused" \
    bash -c "! '$DEVID' renew '$T/g.crt' '$T/g.key' --ca-url '$AGENT' \
    --root '$ROOTS' --token-auth --out '$T/g2.crt' 2>'$T/g2.err'"
check "... with 401" grep -q 'answered 401' "$T/g2.err"
check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
