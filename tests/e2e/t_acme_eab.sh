# t_acme_eab.sh - external account binding (RFC 8555 §7.3.4) with real
# clients: the Agent CA's "acme" provisioner requires EAB (requireEAB); an
# admin creates a key with `devid acme-eab create`; lego without a binding,
# with a wrong HMAC key, or with a key another account holds is refused
# with the RFC's error type; lego and certbot with their own keys get
# certificates; the binding is listed and audited.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.sh"

command -v lego >/dev/null 2>&1 || die "lego is not installed (make deps)"
command -v certbot >/dev/null 2>&1 || die "certbot is not installed (make deps)"
ca_init
jq '.teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" and .name == "acme" then . + {"requireEAB": true}
      else . end)' "$T/data/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$T/data/config.json" ||
    die "cannot configure requireEAB"
HTTP01_PORT=$(free_port)
jq --argjson hp "$HTTP01_PORT" '
    .teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" and .name == "acme" then
        . + {"httpPort": $hp, "resolve": {"*": "127.0.0.1"}}
      else . end)' "$T/data/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$T/data/config.json" ||
    die "cannot configure the ACME provisioner"
start_server
DIR="https://$HOSTPORT/t/default/agent/acme/acme/directory"
AGENT_ROOT="$T/data/certs/agent-root.crt"
ADM=(--data "$T/data")

st=$(http GET "$DIR" "$T/dir.json")
check "the directory says externalAccountRequired (200, got $st)" \
    jq -e '.meta.externalAccountRequired == true' "$T/dir.json"

"$DEVID" acme-eab create acme --reference lego-host "${ADM[@]}" \
    >"$T/eab1.json" 2>"$T/eab1.err"
check "devid acme-eab create prints a key id and an HMAC key" \
    jq -e '(.id | length) > 0 and (.hmacKey | length) == 43 and
      .provisioner == "acme" and .authority == "agent" and
      .reference == "lego-host"' "$T/eab1.json"
KID=$(jq -r .id "$T/eab1.json")
HMAC=$(jq -r .hmacKey "$T/eab1.json")

export LEGO_CA_CERTIFICATES="$ROOTS"
HTTP=(--http --http.port "127.0.0.1:$HTTP01_PORT")
lego_run() {	# lego_run PATH DOMAIN [args...]
	local p=$1 d=$2
	shift 2
	timeout 120 lego --server "$DIR" --accept-tos --email ops@example.org \
	    --path "$p" "$@" --key-type ec256 --domains "$d" "${HTTP[@]}" run
}

lego_run "$T/l0" none.eab.test >"$T/l0.out" 2>&1
check "lego without a binding fails" test $? -ne 0
check "... (lego reads meta.externalAccountRequired)" \
    grep -q 'requires External Account Binding' "$T/l0.out"

# the protocol checks no real client fails, with a key of their own
"$DEVID" acme-eab create acme --reference protocol "${ADM[@]}" \
    >"$T/eab0.json" 2>&1 || fail "acme-eab create (0)"
timeout 120 python3 "$(dirname "$0")/acme_eab.py" "$DIR" "$ROOTS" \
    "$(jq -r .id "$T/eab0.json")" "$(jq -r .hmacKey "$T/eab0.json")" \
    >"$T/eab.out" 2>&1
st=$?
while read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"FAIL - "*) fail "${line#FAIL - }" ;;
	esac
done <"$T/eab.out"
[ "$st" -eq 0 ] || fail "acme_eab.py exited with status $st: $(tail -3 "$T/eab.out")"

WRONG=$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')
lego_run "$T/l1" wrong.eab.test --eab --kid "$KID" --hmac "$WRONG" \
    >"$T/l1.out" 2>&1
check "lego with a wrong HMAC key fails" test $? -ne 0
check "... with unauthorized" \
    grep -q 'urn:ietf:params:acme:error:unauthorized' "$T/l1.out"

lego_run "$T/l2" unknown.eab.test --eab --kid "no-such-kid" --hmac "$HMAC" \
    >"$T/l2.out" 2>&1
check "lego with an unknown key id fails (unauthorized)" \
    sh -c "test $? -ne 0 && grep -q 'error:unauthorized' '$T/l2.out'"

check "lego with the binding: certificate issued" \
    lego_run "$T/lego" eab.lego.test --eab --kid "$KID" --hmac "$HMAC"
C="$T/lego/certificates"
check "the chain verifies to the Agent CA root" \
    verify_chain "$C/eab.lego.test.crt" "$C/eab.lego.test.issuer.crt"
check "lego again with its account (no new binding needed)" \
    lego_run "$T/lego" again.eab.test --eab --kid "$KID" --hmac "$HMAC"

lego_run "$T/l3" bound.eab.test --eab --kid "$KID" --hmac "$HMAC" \
    >"$T/l3.out" 2>&1
check "another account with the bound key fails" test $? -ne 0
check "... with unauthorized" \
    grep -q 'urn:ietf:params:acme:error:unauthorized' "$T/l3.out"

"$DEVID" acme-eab list --provisioner acme "${ADM[@]}" >"$T/list.json" \
    2>"$T/list.err"
check "the key is listed bound to an account, without its HMAC key" \
    jq -e --arg k "$KID" '[.keys[] | select(.id == $k)][0] |
      (.account | length) > 0 and .boundAt != null and .hmacKey == null' \
    "$T/list.json"

# certbot with a key of its own
"$DEVID" acme-eab create acme --reference certbot-host "${ADM[@]}" \
    >"$T/eab2.json" 2>"$T/eab2.err" || fail "acme-eab create (2)"
export REQUESTS_CA_BUNDLE="$ROOTS"
CB="--config-dir $T/cb/etc --work-dir $T/cb/work --logs-dir $T/cb/log"
timeout 180 certbot certonly --standalone --non-interactive --agree-tos \
    -m ops@example.org --server "$DIR" --preferred-challenges http \
    --http-01-address 127.0.0.1 --http-01-port "$HTTP01_PORT" $CB \
    --eab-kid="$(jq -r .id "$T/eab2.json")" \
    --eab-hmac-key="$(jq -r .hmacKey "$T/eab2.json")" \
    --key-type ecdsa --elliptic-curve secp256r1 -d eab.certbot.test \
    >"$T/certbot.out" 2>&1
check "certbot with --eab-kid/--eab-hmac-key: certificate issued" \
    test $? -eq 0
check "certbot's chain verifies" verify_chain \
    "$T/cb/etc/live/eab.certbot.test/cert.pem" \
    "$T/cb/etc/live/eab.certbot.test/chain.pem"

# a deleted key is refused
"$DEVID" acme-eab create acme "${ADM[@]}" >"$T/eab3.json" 2>&1 ||
    fail "acme-eab create (3)"
KID3=$(jq -r .id "$T/eab3.json")
check "devid acme-eab delete" "$DEVID" acme-eab delete "$KID3" "${ADM[@]}"
lego_run "$T/l4" deleted.eab.test --eab --kid "$KID3" \
    --hmac "$(jq -r .hmacKey "$T/eab3.json")" >"$T/l4.out" 2>&1
check "lego with a deleted key fails (unauthorized)" \
    sh -c "test $? -ne 0 && grep -q 'error:unauthorized' '$T/l4.out'"

"$DEVID" audit export "${ADM[@]}" >"$T/audit.out" 2>&1 ||
    curl -fsS --cacert "$ROOTS" -H "Authorization: Bearer $(head -n1 "$T/data/admin/owner.token")" \
    "https://$HOSTPORT/admin/v1/teams/default/audit?limit=100" >"$T/audit.out"
for a in acme.eab.create acme.eab.bind acme.eab.delete; do
	check "the audit log has $a" grep -q "$a" "$T/audit.out"
done
check "no HMAC key in the server log" \
    sh -c "! grep -q -- '$HMAC' '$T'/server.*.log"
finish
