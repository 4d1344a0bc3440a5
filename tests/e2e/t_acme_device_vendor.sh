#!/bin/bash
# t_acme_device_vendor.sh - device-attest-01 with the `apple` and `step`
# (YubiKey PIV) formats end to end (issue 5; spec/attestation.md §9, §10,
# §12): test CAs stand in for Apple's Enterprise Attestation CA and
# Yubico's PIV attestation CA, their roots configured as the provisioner's
# attestationRoots (a path relative to the data folder).  An iPhone is
# registered by UDID and serial, a YubiKey by its serial; the client
# (acme_device_vendor.py) gets a device certificate for each identifier
# and is refused for a wrong nonce, a missing nonce, an untrusted chain,
# no identifier, another device, an unregistered device, a signature by
# another key or over another key authorization, an unwrapped sig, and
# CSRs of another key or CN.  openssl checks each device certificate.
. "$(dirname "$0")/lib.sh"

CLIENT="$(dirname "$0")/acme_device_vendor.py"
UDID=00008030-001A2C3E0E38802E
SERIAL=F2LXK0TESTQ1
YKSERIAL=15732500
UNREG=00008030-00000000DEADBEEF

ca_init
DATA="$T/data"
A="https://$HOSTPORT/admin/v1/teams/default"
OWNER=$(head -n1 "$DATA/admin/owner.token")
AGENT_ROOT="$DATA/certs/agent-root.crt"

mkdir -p "$DATA/vendor"
python3 "$CLIENT" roots "$DATA/vendor" || die "test CAs"
jq '.teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" and .name == "acme" then
        . + {challenges: ["device-attest-01"],
             attestationFormats: ["apple", "step"],
             attestationRoots: {apple: "vendor/apple-root.pem",
                                step: "vendor/yubico-root.pem"}}
      else . end)' "$DATA/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$DATA/config.json" || die "config edit failed"
start_server
DIR="https://$HOSTPORT/t/default/agent/acme/acme/directory"

admin() {	# admin METHOD URL [BODY]: status; body in $T/resp
	local args=(-H "Authorization: Bearer $OWNER")
	[ -n "${3-}" ] && args+=(-H "Content-Type: application/json" --data-binary "$3")
	http "$1" "$2" "$T/resp" "${args[@]}"
}

st=$(admin POST "$A/devices" "$(jq -cn --arg u "$UDID" --arg s "$SERIAL" \
    '{name:"iphone-1",os:"ios",kind:"phone",identifiers:[
      {type:"udid",value:$u},{type:"serial",value:$s}]}')")
check "the iPhone is registered by UDID and serial (got $st)" test "$st" = 201
IPHONE=$(jq -r .id "$T/resp")
st=$(admin POST "$A/devices" "$(jq -cn --arg y "$YKSERIAL" \
    '{name:"yubikey-1",kind:"other",identifiers:[
      {type:"yubikey-serial",value:$y}]}')")
check "the YubiKey is registered by serial (got $st)" test "$st" = 201

python3 "$CLIENT" run "$DIR" "$ROOTS" "$DATA/vendor" "$UDID" "$SERIAL" \
    "$YKSERIAL" "$UNREG" >"$T/client.out" 2>&1
cst=$?
cat "$T/client.out"
PASSES=$((PASSES + $(grep -c '^ok - ' "$T/client.out")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$T/client.out")))
[ "$cst" -eq 0 ] || fail "acme_device_vendor.py exited with status $cst"

# device_cert NAME IDENT: openssl's view of the certificate in NAME
device_cert() {
	local chain="$DATA/vendor/$1" id=$2
	[ -s "$chain" ] || { fail "$1 was not written"; return; }
	csplit -s -z -f "$T/$1." "$chain" '/BEGIN CERT/' '{*}'
	check "$1: verifies to the Agent CA root" \
	    openssl verify -CAfile "$AGENT_ROOT" -untrusted "$T/$1.01" "$T/$1.00"
	openssl x509 -in "$T/$1.00" -noout -text >"$T/$1.txt"
	local off
	off=$(openssl asn1parse -in "$T/$1.00" | awk '/Subject Alternative Name/ {f=1} f && /OCTET STRING/ {sub(":.*", "", $1); print $1; exit}')
	check "$1: SAN permanentIdentifier $id (RFC 4043)" \
	    bash -c "openssl asn1parse -in '$T/$1.00' -strparse '$off' | grep -qF 'UTF8STRING        :$id'"
	check "$1: EKU clientAuth only" \
	    test "$(grep -A1 'X509v3 Extended Key Usage' "$T/$1.txt" | tail -1 | tr -d ' ')" = "TLSWebClientAuthentication"
	check "$1: the attested key" \
	    cmp <(openssl x509 -in "$T/$1.00" -pubkey -noout | openssl pkey -pubin -outform der) "$chain.key"
}
device_cert apple-chain.pem "$UDID"
device_cert apple-serial-chain.pem "$SERIAL"
device_cert step-chain.pem "$YKSERIAL"

st=$(admin GET "$A/devices/$IPHONE")
check "the iPhone is active and was seen" \
    jq -e '.status == "active" and (.lastSeenAt | type) == "string"' "$T/resp"

# without attestationRoots the built-in vendor roots apply: the test
# CAs' chains are no longer trusted
stop_server || fail "devid-ca serve did not stop cleanly"
jq '.teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" then del(.attestationRoots) else . end)' \
    "$DATA/config.json" >"$T/config.new" && mv "$T/config.new" "$DATA/config.json"
start_server
python3 "$CLIENT" builtin "$DIR" "$ROOTS" "$DATA/vendor" "$UDID" "$SERIAL" \
    "$YKSERIAL" "$UNREG" >"$T/builtin.out" 2>&1
cst=$?
cat "$T/builtin.out"
PASSES=$((PASSES + $(grep -c '^ok - ' "$T/builtin.out")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$T/builtin.out")))
[ "$cst" -eq 0 ] || fail "acme_device_vendor.py builtin exited with status $cst"
finish
