# t_sign_cli.sh - `devid certificate` gets certificates that verify as TLS
# client certificates (JWK token minted by the CLI, a token from
# `devid token`, several key types, X5C with a device certificate), and
# `devid roots` bootstraps from a fingerprint.
. "$(dirname "$0")/lib.sh"

ca_init
start_server

# 1. JWK token minted by the CLI, two SANs.
check "devid certificate issues laptop.example.com" \
    issue laptop.example.com "$T/a.crt" "$T/a.key" \
    --san laptop.example.com --san 10.0.0.7 --not-after 1h
leaf_of "$T/a.crt" "$T/a.leaf" || die "a.crt holds no certificate"
rest_of "$T/a.crt" "$T/a.chain"
check "the chain has an intermediate after the leaf" \
    grep -q 'BEGIN CERTIFICATE' "$T/a.chain"
check "openssl verify -x509_strict -purpose sslclient" \
    openssl verify -x509_strict -purpose sslclient -CAfile "$ROOT" \
    -untrusted "$T/a.chain" "$T/a.leaf"
check "openssl verify -x509_strict -purpose sslserver" \
    openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" \
    -untrusted "$T/a.chain" "$T/a.leaf"
check "the key file is 0600" test "$(stat -c %a "$T/a.key")" = 600
check "the key is the certificate's" test \
    "$(openssl pkey -in "$T/a.key" -pubout 2>/dev/null)" = \
    "$(openssl x509 -in "$T/a.leaf" -noout -pubkey 2>/dev/null)"
check "SANs are the requested ones" test "$(sans_of "$T/a.leaf")" = \
    "$(printf 'DNS:laptop.example.com\nIP Address:10.0.0.7\n' | sort)"
check "CN is the subject" grep -q 'CN=laptop.example.com' \
    <<<"$(openssl x509 -in "$T/a.leaf" -noout -subject -nameopt RFC2253)"
nb=$(date -d "$(openssl x509 -in "$T/a.leaf" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/a.leaf" -noout -enddate | cut -d= -f2)" +%s)
life=$((na - nb))
check "--not-after 1h gives a 1 h certificate (got ${life}s)" \
    test "$life" -ge 3540 -a "$life" -le 3720

# 2. devid inspect agrees with openssl.
"$DEVID" inspect --json "$T/a.leaf" >"$T/a.json" 2>"$T/inspect.err"
check "devid inspect --json exits 0" test $? -eq 0
check "inspect: serial matches openssl" test \
    "$(jq -r .serial.dec "$T/a.json")" = "$(serial_of "$T/a.leaf")"
check "inspect: provisioner extension names admin (JWK)" \
    jq -e '.provisioner.name == "admin" and .provisioner.type == 1' "$T/a.json"
check "inspect: EKU has clientAuth" \
    jq -e '.extKeyUsage | index("clientAuth") != null' "$T/a.json"
check "devid inspect (human) shows the serial" grep -q \
    "$(serial_of "$T/a.leaf")" <<<"$("$DEVID" inspect "$T/a.leaf")"

# 3. A token from `devid token`, posted by `devid certificate --token`.
tok=$(mint_token sensor-1.example.com) || die "devid token failed"
check "devid token prints a compact JWS" \
    grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' <<<"$tok"
hdr=$(b64url_dec "$(echo "$tok" | cut -d. -f1)")
pay=$(b64url_dec "$(echo "$tok" | cut -d. -f2)")
header_ok() {
	echo "$hdr" | jq -e --arg kid "$(jq -r .kid "$PROV")" \
	    '.alg == "ES256" and .kid == $kid and .typ == "JWT"' >/dev/null
}
claims_ok() {
	echo "$pay" | jq -e --arg aud "$CA/1.0/sign" '
	    .iss == "admin" and .aud == $aud and
	    .sub == "sensor-1.example.com" and
	    .sans == ["sensor-1.example.com"] and
	    (.jti | test("^[0-9a-f]{64}$")) and .exp - .nbf == 300 and
	    .iat == .nbf' >/dev/null
}
check "token header: alg ES256, kid of the provisioner, typ JWT" header_ok
check "token claims: iss, aud, sub, sans, jti, nbf = iat, 5 min" claims_ok
check "devid certificate --token" "$DEVID" certificate sensor-1.example.com \
    "$T/b.crt" "$T/b.key" --ca-url "$CA" --root "$ROOTS" --token "$tok"
check "a used token is refused the second time" \
    test "$(status_of "$DEVID" certificate sensor-1.example.com "$T/b2.crt" \
    "$T/b2.key" --ca-url "$CA" --root "$ROOTS" --token "$tok")" = 1

# 4. Other key types.
for kt in "--kty EC --curve P-384" "--kty RSA --size 2048" "--kty OKP --curve Ed25519"; do
	n=$(echo "$kt" | tr -dc 'A-Za-z0-9' | tr 'A-Z' 'a-z')
	# shellcheck disable=SC2086
	if issue "$n.example.com" "$T/$n.crt" "$T/$n.key" $kt; then
		leaf_of "$T/$n.crt" "$T/$n.leaf"
		rest_of "$T/$n.crt" "$T/$n.chain"
		check "$kt certificate verifies" openssl verify -x509_strict \
		    -purpose sslclient -CAfile "$ROOT" -untrusted "$T/$n.chain" \
		    "$T/$n.leaf"
	else
		fail "devid certificate $kt"
	fi
done

# 5. Names other than the token's are refused (403), nothing is written.
tok=$(mint_token only-this.example.com) || die "devid token failed"
"$DEVID" certificate other.example.com "$T/c.crt" "$T/c.key" \
    --ca-url "$CA" --root "$ROOTS" --token "$tok" 2>"$T/c.err"
check "a CSR for other names than the token's is refused" test $? -eq 1
check "... the CLI says the CA answered 403" grep -q 'answered 403' "$T/c.err"
check "... and wrote no files" test ! -e "$T/c.crt" -a ! -e "$T/c.key"

# 6. X5C: a device certificate from the agent authority buys an account
#    certificate through the account authority's "devices" provisioner.
AGENT="https://$HOSTPORT/t/default/agent"
check "agent certificate for device-1" "$DEVID" certificate device-1 \
    "$T/dev.crt" "$T/dev.key" --ca-url "$AGENT" --root "$ROOTS" --key "$PROV"
check "X5C token: account certificate for device-1" "$DEVID" certificate \
    device-1 "$T/acct.crt" "$T/acct.key" --ca-url "$CA" --root "$ROOTS" \
    --x5c-cert "$T/dev.crt" --x5c-key "$T/dev.key" --provisioner devices
if [ -s "$T/acct.crt" ]; then
	leaf_of "$T/acct.crt" "$T/acct.leaf"
	rest_of "$T/acct.crt" "$T/acct.chain"
	check "the X5C-issued certificate verifies to the account root" \
	    openssl verify -x509_strict -purpose sslclient -CAfile "$ROOT" \
	    -untrusted "$T/acct.chain" "$T/acct.leaf"
	"$DEVID" inspect --json "$T/acct.leaf" >"$T/acct.json"
	check "inspect: provisioner devices (X5C)" jq -e \
	    '.provisioner.name == "devices" and .provisioner.type == 7' \
	    "$T/acct.json"
fi
check "an account certificate is no X5C credential (wrong root)" \
    test "$(status_of "$DEVID" certificate x "$T/x.crt" "$T/x.key" \
    --ca-url "$CA" --root "$ROOTS" --x5c-cert "$T/a.crt" --x5c-key "$T/a.key" \
    --provisioner devices)" = 1

# 7. devid roots: verified, and bootstrapped from the fingerprint.
"$DEVID" roots --ca-url "$CA" --root "$ROOTS" >"$T/roots.out"
check "devid roots --root prints the account root" \
    grep -qF "$(sed -n 2p "$ROOT")" "$T/roots.out"
fp=$(openssl x509 -in "$ROOT" -noout -fingerprint -sha256 | cut -d= -f2)
"$DEVID" roots --ca-url "$CA" --fingerprint "$fp" >"$T/boot.pem"
check "devid roots --fingerprint prints exactly the account root" \
    test "$(openssl x509 -in "$T/boot.pem" -outform DER | sha256sum)" = \
    "$(openssl x509 -in "$ROOT" -outform DER | sha256sum)"
check "devid roots with a wrong fingerprint fails" test "$(status_of \
    "$DEVID" roots --ca-url "$CA" --fingerprint "$(printf '%064d' 0)")" = 1

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
