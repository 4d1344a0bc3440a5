#!/bin/bash
# t_acme_device_attest.sh - device-attest-01 (`tpm`) end to end on swtpm
# (issue 5; spec/attestation.md §6.2-6.3, §8, §12): the device enrolls
# through the Attestation CA (/attest + ActivateCredential + /secret, as
# t_attest_swtpm.sh), makes a TPM-resident P-256 key, certifies it with the
# AK over SHA-256(keyAuthorization) (TPM2_Certify), answers the ACME
# challenge with the `tpm` attestation object and finalizes with a CSR
# signed by the TPM key (TPM2_Sign); openssl checks the device
# certificate: SAN permanent identifier (RFC 4043) and the EK URN,
# clientAuth only, about 24 h.  Negative runs: wrong keyAuthorization,
# certInfo for another key, AK chain from another CA, identifier of
# another device, CSR key != attested key, unregistered device, retired
# device; each with its ACME error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tpm_lib.sh"

HELPER=(python3 "$(dirname "$0")/attest_helper.py")
CLIENT="$(dirname "$0")/acme_device.py"

ca_init
DATA="$T/data"
ATT="https://$HOSTPORT/t/default/attestation"
A="https://$HOSTPORT/admin/v1/teams/default"
OWNER=$(head -n1 "$DATA/admin/owner.token")
AGENT_ROOT="$DATA/certs/agent-root.crt"

tpm_provision
tpm_start
tpm_eks
tpm_ak ak
ok "swtpm with EK certificates; SRK and AK created"
URN="urn:ek:sha256:$(openssl dgst -sha256 -binary "$TS/ek_rsa.der" | base64 -w0)"

# the swtpm_localca roots trusted for EKs; device-attest-01 offered
SHARED_ROOTS="$DEVID_SRC/../shared/data/ek-roots"
mkdir -p "$T/ekroots"
cp "$SHARED_ROOTS"/* "$T/ekroots/"
cp "$EK_CA_ROOT" "$T/ekroots/swtpm-localca-root.pem"
cp "$EK_CA_ISSUER" "$T/ekroots/swtpm-localca-issuer.pem"
jq --arg r "$T/ekroots" '.teams.default.attestation = {ekRoots: $r} |
    .teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" and .name == "acme" then
        . + {challenges: ["http-01", "device-attest-01"],
             attestationFormats: ["tpm"]}
      else . end)' "$DATA/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$DATA/config.json" || die "config edit failed"
# a second team in the same server: its Attestation CA is not this one's
"$DEVID_CA" team add other --data "$DATA" >"$T/team.out" 2>"$T/team.err" ||
    die "devid-ca team add failed: $(cat "$T/team.err")"
jq --arg r "$T/ekroots" '.teams.other.attestation = {ekRoots: $r}' \
    "$DATA/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$DATA/config.json" || die "config edit failed"
OTHER_OWNER=$(head -n1 "$DATA/admin/other-owner.token")
cp "$DATA/config.json" "$T/config.before"
check "team add of an existing team is refused, config.json untouched" \
    bash -c "! '$DEVID_CA' team add other --data '$DATA' >/dev/null 2>&1 && cmp -s '$DATA/config.json' '$T/config.before'"
check "team add of a bad name is refused" \
    bash -c "! '$DEVID_CA' team add ../x --data '$DATA' >/dev/null 2>&1 && test ! -e '$DATA/keys/../x-agent-root.key'"
stop_server || fail "devid-ca serve did not stop cleanly"
start_server
DIR="https://$HOSTPORT/t/default/agent/acme/acme/directory"

admin() {	# admin METHOD URL [BODY]: status; body in $T/resp
	local args=(-H "Authorization: Bearer $OWNER")
	[ -n "${3-}" ] && args+=(-H "Content-Type: application/json" --data-binary "$3")
	http "$1" "$2" "$T/resp" "${args[@]}"
}

# ---- enrollment: the AK certificate from the Attestation CA -----------
reg=$(jq -cn --rawfile rsa "$TS/ek_rsa.pem" \
    '{name:"swtpm-acme",os:"linux",kind:"laptop",identifiers:[
      {type:"ek",value:$rsa}]}')
st=$(admin POST "$A/devices" "$reg")
check "the device is registered (got $st)" test "$st" = 201
DEV=$(jq -r .id "$T/resp")
"${HELPER[@]}" body --ek "$TS/ek_rsa.der" --pub "$TS/ak.pub" \
    --cdata "$TS/ak.cdata" --attest "$TS/ak.attest" --sig "$TS/ak.sig" \
    --manufacturer 1229081856 --model swtpm --firmware 2.0 \
    --ek-cert "$TS/ek_rsa.crt" >"$T/att.json" || die "helper body"
st=$(http POST "$ATT/attest" "$T/att.resp" -H 'Content-Type:' --data-binary "@$T/att.json")
check "POST /attest: 200 (got $st)" test "$st" = 200
"${HELPER[@]}" credential "$T/att.resp" "$T/att.cred" || die "credential"
check "ActivateCredential on the swtpm" tpm_activate_rsa ak "$T/att.cred" "$T/att.secret"
"${HELPER[@]}" secret "$T/att.secret" >"$T/sec.json"
st=$(http POST "$ATT/secret" "$T/sec.resp" -H 'Content-Type:' --data-binary "@$T/sec.json")
check "POST /secret: the AK certificate chain (got $st)" test "$st" = 200
"${HELPER[@]}" chain "$T/sec.resp" "$T" >/dev/null 2>&1
mv "$T/0.pem" "$T/ak.pem" && mv "$T/1.pem" "$T/ak_inter.pem" ||
    die "no AK certificate chain"

# the same TPM enrolls at team other too: an AK certificate of the same
# AK, from that team's Attestation CA
OA="https://$HOSTPORT/admin/v1/teams/other"
st=$(http POST "$OA/devices" "$T/resp" -H "Authorization: Bearer $OTHER_OWNER" \
    -H "Content-Type: application/json" --data-binary "$reg")
check "the device is registered in team other too (got $st)" test "$st" = 201
st=$(http POST "https://$HOSTPORT/t/other/attestation/attest" "$T/oatt.resp" \
    -H 'Content-Type:' --data-binary "@$T/att.json")
check "team other: POST /attest 200 (got $st)" test "$st" = 200
"${HELPER[@]}" credential "$T/oatt.resp" "$T/oatt.cred" || die "credential"
check "team other: ActivateCredential" tpm_activate_rsa ak "$T/oatt.cred" "$T/oatt.secret"
"${HELPER[@]}" secret "$T/oatt.secret" >"$T/osec.json"
st=$(http POST "https://$HOSTPORT/t/other/attestation/secret" "$T/osec.resp" \
    -H 'Content-Type:' --data-binary "@$T/osec.json")
check "team other: POST /secret (got $st)" test "$st" = 200
mkdir -p "$T/other"
"${HELPER[@]}" chain "$T/osec.resp" "$T/other" >/dev/null 2>&1
check "team other's AK certificate chains to team other's attestation root, not default's" \
    bash -c "openssl verify -CAfile '$DATA/certs/other-attestation-root.crt' -untrusted '$T/other/1.pem' '$T/other/0.pem' >/dev/null && ! openssl verify -CAfile '$DATA/certs/attestation-root.crt' -untrusted '$T/other/1.pem' '$T/other/0.pem' >/dev/null 2>&1"

run() {	# run STEP: the python client's checks counted
	python3 "$CLIENT" "$1" "$DIR" "$ROOTS" "$TS" "$T/ak.pem" \
	    "$T/ak_inter.pem" "$URN" "$T" >"$T/$1.out" 2>&1
	local st=$?
	cat "$T/$1.out"
	PASSES=$((PASSES + $(grep -c '^ok - ' "$T/$1.out")))
	FAILS=$((FAILS + $(grep -c '^FAIL - ' "$T/$1.out")))
	[ "$st" -eq 0 ] || fail "acme_device.py $1 exited with status $st"
}

# ---- the device certificate -------------------------------------------
run good
csplit -s -z -f "$T/dc" "$T/device-chain.pem" '/BEGIN CERT/' '{*}'
check "the device certificate verifies to the Agent CA root" \
    openssl verify -CAfile "$AGENT_ROOT" -untrusted "$T/dc01" "$T/dc00"
openssl x509 -in "$T/dc00" -noout -text >"$T/dc.txt"
check "... SAN otherName permanentIdentifier (RFC 4043)" \
    grep -q 'othername: Permanent Identifier' "$T/dc.txt"
san_off=$(openssl asn1parse -in "$T/dc00" | awk '/Subject Alternative Name/ {f=1} f && /OCTET STRING/ {sub(":.*", "", $1); print $1; exit}')
check "... whose identifierValue is the EK URN" \
    bash -c "openssl asn1parse -in '$T/dc00' -strparse '$san_off' | grep -qF 'UTF8STRING        :$URN'"
check "... URI SAN is the EK URN" grep -qF "URI:$URN" "$T/dc.txt"
check "... EKU clientAuth only" \
    test "$(grep -A1 'X509v3 Extended Key Usage' "$T/dc.txt" | tail -1 | tr -d ' ')" = "TLSWebClientAuthentication"
check "... the TPM key's public key" \
    cmp <(openssl x509 -in "$T/dc00" -pubkey -noout | openssl pkey -pubin -outform der) "$TS/dev.spki"
nb=$(date -d "$(openssl x509 -in "$T/dc00" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/dc00" -noout -enddate | cut -d= -f2)" +%s)
check "... valid about 24 h (got $((na - nb)) s)" test $((na - nb)) -le $((24 * 3600 + 120))
st=$(admin GET "$A/devices/$DEV")
check "the device is active and was seen" \
    jq -e '.status == "active" and (.lastSeenAt | type) == "string"' "$T/resp"

# ---- refusals ----------------------------------------------------------
run negatives
# the AK certificate chain of team other, at team default's Agent CA
python3 "$CLIENT" foreign "$DIR" "$ROOTS" "$TS" "$T/other/0.pem" \
    "$T/other/1.pem" "$URN" "$T" >"$T/foreign.out" 2>&1
fst=$?
cat "$T/foreign.out"
PASSES=$((PASSES + $(grep -c '^ok - ' "$T/foreign.out")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$T/foreign.out")))
[ "$fst" -eq 0 ] || fail "acme_device.py foreign exited with status $fst"
st=$(admin PATCH "$A/devices/$DEV" "$(jq -cn --arg u "$URN" '{removeIdentifiers: [$u]}')")
check "the EK is removed from the device (got $st)" test "$st" = 200
run unregistered
st=$(admin PATCH "$A/devices/$DEV" "$(jq -cn --rawfile rsa "$TS/ek_rsa.pem" '{addIdentifiers: [{type:"ek",value:$rsa}]}')")
check "... and added back (got $st)" test "$st" = 200
st=$(admin POST "$A/devices/$DEV:retire" '{}')
check "retire the device (got $st)" test "$st" = 200
check "... which revokes its device certificate" \
    jq -e --arg s "$(serial_of "$T/dc00")" 'any(.revoked[]; .serial == $s)' "$T/resp"
run retired

finish
