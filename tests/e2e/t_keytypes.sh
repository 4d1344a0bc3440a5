# t_keytypes.sh - `devid-ca init --key-type p384|rsa3072`: every CA key of
# that type, certificates signed with it verify (-x509_strict), OCSP and
# the CRL are signed with it too.
. "$(dirname "$0")/lib.sh"

for kt in p384 rsa3072; do
	D="$T/data-$kt"
	PORT=$(free_port)
	HOSTPORT="127.0.0.1:$PORT"
	check "init --key-type $kt" "$DEVID_CA" init --data "$D" \
	    --listen "$HOSTPORT" --key-type "$kt"
	case $kt in
	p384) want='ASN1 OID: secp384r1' ;;
	rsa3072) want='Public-Key: (3072 bit)' ;;
	esac
	check "the $kt account intermediate has a $kt key" grep -q "$want" \
	    <<<"$(openssl x509 -in "$D/certs/account-intermediate.crt" -noout -text)"
	check "the CA keys are encrypted PKCS#8" grep -q \
	    'BEGIN ENCRYPTED PRIVATE KEY' "$D/keys/account-intermediate.key"
	"$DEVID_CA" serve --data "$D" >>"$T/server-$kt.log" 2>&1 &
	SERVER_PID=$!
	CA="https://$HOSTPORT/t/default/account"
	ROOTS="$D/certs/roots.pem"
	for i in $(seq 1 150); do healthy && break; sleep 0.1; done
	check "serve ($kt) answers /health" healthy
	check "a certificate under the $kt CA" "$DEVID" certificate \
	    "host-$kt.example.com" "$T/$kt.crt" "$T/$kt.key" --ca-url "$CA" \
	    --root "$ROOTS" --key "$D/admin/provisioner.json"
	leaf_of "$T/$kt.crt" "$T/$kt.leaf"
	rest_of "$T/$kt.crt" "$T/$kt.chain"
	check "it verifies with -x509_strict" openssl verify -x509_strict \
	    -purpose sslclient -CAfile "$D/certs/account-root.crt" \
	    -untrusted "$T/$kt.chain" "$T/$kt.leaf"
	r=$(openssl ocsp -issuer "$D/certs/account-intermediate.crt" \
	    -cert "$T/$kt.leaf" -url "$CA/ocsp" -CAfile "$ROOTS" \
	    -VAfile "$D/certs/account-intermediate.crt" 2>&1 |
	    awk -F': ' '/\.leaf:/ { print $2 }')
	check "OCSP ($kt signature) says good (got '$r')" test "$r" = good
	curl -fsS --cacert "$ROOTS" -o "$T/$kt.crl" "$CA/crl"
	check "the CRL ($kt signature) verifies" bash -c "openssl crl \
	    -inform DER -in '$T/$kt.crl' -noout \
	    -CAfile '$D/certs/account-intermediate.crt' 2>&1 | \
	    grep -q 'verify OK'"
	check "serve ($kt) stops on SIGTERM" stop_server
done
finish
