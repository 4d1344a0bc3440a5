#!/bin/bash
# t_valgrind.sh BUILD_DIR - the server under valgrind memcheck (the test
# build's sanitizers cannot run under valgrind, so this drives a build
# without them): `devid-ca serve` and its signer child, through start-up,
# issue, renew over mTLS, revoke, CRL, OCSP, an admin API device, an
# Attestation CA refusal and an ACME account and order, then SIGTERM.
# Passes when no memcheck error was reported in either process and no
# block is definitely lost.  Run by `make test` after ctest.
BUILD=${1:?usage: t_valgrind.sh BUILD_DIR}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export DEVID_BIN=$BUILD
. "$(dirname "$0")/../e2e/lib.sh"
export DEVID_SRC

command -v valgrind >/dev/null || die "valgrind is not installed (make deps)"

ca_init
VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --num-callers=30 --log-file="$T/vg.%p.log")
"${VG[@]}" "$DEVID_CA" serve --data "$T/data" >"$T/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 300); do
	healthy && break
	kill -0 "$SERVER_PID" 2>/dev/null || die "devid-ca under valgrind exited: $(tail -5 "$T/server.log")"
	sleep 0.2
done
check "devid-ca serve answers /health under valgrind" healthy

check "issue a certificate (devid certificate)" \
    issue vg.example.com "$T/a.crt" "$T/a.key"
check "... it verifies" openssl verify -CAfile "$ROOT" -untrusted "$INTER" "$T/a.crt"
check "renew over mTLS" "$DEVID" renew "$T/a.crt" "$T/a.key" --ca-url "$CA" \
    --root "$ROOTS"
leaf_of "$T/a.crt" "$T/a.leaf"
S=$(serial_of "$T/a.leaf")
check "revoke" "$DEVID" revoke "$S" --ca-url "$CA" --root "$ROOTS" --key "$PROV"
st=$(http GET "$CA/crl" "$T/crl.der")
check "the CRL lists it (got $st)" bash -c "openssl crl -inform DER -in '$T/crl.der' -noout -text | grep -q 'Serial Number: $(openssl x509 -in "$T/a.leaf" -noout -serial | cut -d= -f2)'"
openssl ocsp -issuer "$INTER" -cert "$T/a.leaf" -no_nonce -reqout "$T/o.req" \
    >/dev/null 2>&1
st=$(http POST "$CA/ocsp" "$T/o.resp" -H 'Content-Type: application/ocsp-request' \
    --data-binary @"$T/o.req")
check "OCSP says revoked (got $st)" bash -c "openssl ocsp -respin '$T/o.resp' -issuer '$INTER' -cert '$T/a.leaf' -CAfile '$ROOT' -verify_other '$INTER' -no_nonce 2>&1 | grep -q ': revoked'"
st=$(http POST "$CA/1.0/sign" "$T/bad.json" -H 'Content-Type: application/json' --data-binary '{"csr":"x","ott":"y"')
check "truncated JSON: 400 problem (got $st)" is_problem "$T/bad.json" 400

OWNER=$(head -n1 "$T/data/admin/owner.token")
st=$(http POST "https://$HOSTPORT/admin/v1/teams/default/devices" "$T/dev.json" \
    -H "Authorization: Bearer $OWNER" -H 'Content-Type: application/json' \
    --data-binary '{"name":"vg-1","kind":"laptop","identifiers":[{"type":"serial","value":"VG1"}]}')
check "admin API: a device is registered (got $st)" test "$st" = 201
st=$(http POST "https://$HOSTPORT/t/default/attestation/attest" "$T/att.json" \
    --data-binary '{"ek":"AAAA","akPublic":"","attest":""}')
check "Attestation CA: a malformed /attest is refused (got $st)" \
    bash -c "[ '$st' -ge 400 ] && [ '$st' -lt 500 ]"
D="https://$HOSTPORT/t/default/agent/acme/acme/directory"
check "ACME: an account and an order (python client)" python3 - "$D" "$ROOTS" <<'EOF'
import sys
sys.path.insert(0, __import__("os").environ["DEVID_SRC"] + "/tests/e2e")
import acme_devlib as L
a = L.Acme(sys.argv[1], sys.argv[2])
assert a.new_account()
st, o, ch = a.order("VG1")
assert st == 201 and ch is not None
EOF

stop_server
st=$?
check "devid-ca stops cleanly on SIGTERM (status $st; 99 = memcheck errors)" test "$st" = 0
for f in "$T"/vg.*.log; do
	check "$(basename "$f"): 0 memcheck errors" grep -q 'ERROR SUMMARY: 0 errors' "$f"
	check "$(basename "$f"): nothing definitely lost" \
	    bash -c "! grep -q 'definitely lost: [1-9]' '$f'"
done
if [ "$FAILS" -gt 0 ]; then
	for f in "$T"/vg.*.log; do
		echo "# ---- $f"
		grep -A30 -m3 '^==[0-9]*== \(Invalid\|Conditional\|Use of\|Syscall\|Mismatched\|.*definitely lost in\)' "$f" | head -80
	done
fi
finish
