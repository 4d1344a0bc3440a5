#!/bin/bash
# t_attest_swtpm.sh - the Attestation CA against a software TPM, the oracle
# round trip of STYLE rule 29 (spec/attestation.md §2, interop.md §1):
# swtpm with EK certificates from swtpm_localca; tpm2-tools make the EKs
# (RSA 2048, ECC P-384) and an AK with creation data; the EK is registered
# through the admin API; the /attest body is built as step's client builds
# it; devid's MakeCredential goes to tpm2_activatecredential on the swtpm;
# the recovered secret buys the AK certificate chain at /secret, which
# openssl verifies (EKU 2.23.133.8.3, URI SAN urn:ek:sha256:...).
# Negative runs: unregistered EK (403), EK certificate from an untrusted
# root (401), AK without restricted (400), tampered creation signature
# (400), wrong and replayed secret (401), expired session (401), retired
# device (403).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tpm_lib.sh"

HELPER=(python3 "$(dirname "$0")/attest_helper.py")

ca_init
DATA="$T/data"
ATT="https://$HOSTPORT/t/default/attestation"
A="https://$HOSTPORT/admin/v1/teams/default"
OWNER=$(head -n1 "$DATA/admin/owner.token")
ATT_ROOT="$DATA/certs/attestation-root.crt"
ATT_INTER="$DATA/certs/attestation-intermediate.crt"

# ---- the software TPM --------------------------------------------------
tpm_provision
tpm_start
tpm_eks
ok "swtpm with RSA and P-384 EK certificates; EKs and SRK created"
openssl verify -CAfile "$EK_CA_ROOT" -untrusted "$EK_CA_ISSUER" \
    <(openssl x509 -inform der -in "$TS/ek_rsa.crt") >/dev/null 2>&1 ||
    die "the swtpm EK certificate does not verify with openssl"
tpm_ak ak
tpm_ak ak2
tpm_ak akecc
tpm_ak aknr 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign|noda'
ok "AKs with creation data, certified by themselves"

URN_RSA="urn:ek:sha256:$(openssl dgst -sha256 -binary "$TS/ek_rsa.der" | base64 -w0)"
URN_ECC="urn:ek:sha256:$(openssl dgst -sha256 -binary "$TS/ek_ecc.der" | base64 -w0)"

# TPM-maker roots: the real ones of ../shared/data/ek-roots plus the
# swtpm_localca root and issuing CA (trusted); the real ones alone
# (untrusted for swtpm).
SHARED_ROOTS="$DEVID_SRC/../shared/data/ek-roots"
[ -d "$SHARED_ROOTS" ] || die "no $SHARED_ROOTS"
mkdir -p "$T/ekroots" "$T/ekroots-untrusted"
cp "$SHARED_ROOTS"/* "$T/ekroots/"
cp "$SHARED_ROOTS"/* "$T/ekroots-untrusted/"
cp "$EK_CA_ROOT" "$T/ekroots/swtpm-localca-root.pem"
cp "$EK_CA_ISSUER" "$T/ekroots/swtpm-localca-issuer.pem"

# set_policy JSON: the team's "attestation" object, then a restart.
set_policy() {
	jq --argjson p "$1" '.teams.default.attestation = $p' \
	    "$DATA/config.json" >"$T/config.new" &&
	    mv "$T/config.new" "$DATA/config.json" || die "config edit failed"
	stop_server || fail "devid-ca serve did not stop cleanly"
	start_server
}

# body NAME AK EKDER [helper args]: the /attest body into $T/NAME.json
body() {
	local name=$1 ak=$2 ek=$3
	shift 3
	"${HELPER[@]}" body --ek "$ek" --pub "$TS/$ak.pub" \
	    --cdata "$TS/$ak.cdata" --attest "$TS/$ak.attest" \
	    --sig "$TS/$ak.sig" --manufacturer 1229081856 --model swtpm \
	    --firmware 2.0 "$@" >"$T/$name.json" || die "helper body $name"
}

# post URL FILE: POST without a Content-Type (as step's client); status
# printed, body in $T/resp.
post() {
	http POST "$1" "$T/resp" -H 'Content-Type:' --data-binary "@$2"
}

# attest NAME: POST /attest with $T/NAME.json; answer in $T/NAME.resp
attest() {
	local st
	st=$(post "$ATT/attest" "$T/$1.json")
	cp "$T/resp" "$T/$1.resp"
	echo "$st"
}

# activate NAME AK rsa|ecc: the credential of $T/NAME.resp through the
# TPM into $T/NAME.secret; exit status of tpm2_activatecredential.
activate() {
	"${HELPER[@]}" credential "$T/$1.resp" "$T/$1.cred" || return 1
	"tpm_activate_$3" "$2" "$T/$1.cred" "$T/$1.secret"
}

# secret NAME: POST /secret with $T/NAME.secret; answer in $T/NAME.chain
secret() {
	local st
	"${HELPER[@]}" secret "$T/$1.secret" >"$T/$1.sbody"
	st=$(post "$ATT/secret" "$T/$1.sbody")
	cp "$T/resp" "$T/$1.chain"
	echo "$st"
}

admin() {	# admin METHOD URL [BODY]: status; body in $T/resp
	local args=(-H "Authorization: Bearer $OWNER")
	[ -n "${3-}" ] && args+=(-H "Content-Type: application/json" --data-binary "$3")
	http "$1" "$2" "$T/resp" "${args[@]}"
}

set_policy "$(jq -cn --arg r "$T/ekroots" '{ekRoots: $r}')"

# ---- an EK nobody registered -------------------------------------------
body unreg ak "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt"
st=$(attest unreg)
check "unregistered EK: 403 (got $st)" test "$st" = 403
check "... a problem document saying so" \
    jq -e '.status == 403 and (.detail | test("not registered"))' "$T/unreg.resp"

# ---- register the device: the RSA EK as a key, the ECC one by its cert --
reg=$(jq -cn --rawfile rsa "$TS/ek_rsa.pem" \
    --arg ecc "$(base64 -w0 "$TS/ek_ecc.crt")" \
    '{name:"swtpm-1",os:"linux",kind:"laptop",identifiers:[
      {type:"ek",value:$rsa},{type:"ek-cert",value:$ecc}]}')
st=$(admin POST "$A/devices" "$reg")
check "admin API registers the device (got $st)" test "$st" = 201
DEV=$(jq -r .id "$T/resp")
check "... its EK URN is the one step computes" \
    jq -e --arg u "$URN_RSA" '[.identifiers[].value] | index($u) != null' "$T/resp"

# ---- RSA EK: the round trip --------------------------------------------
body rsa ak "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt" --ek-cert "$TS/ek_ecc.crt"
st=$(attest rsa)
check "POST /attest (RSA EK, its certificate): 200 (got $st)" test "$st" = 200
check "... credential and secret are standard base64 TPM2Bs" \
    "${HELPER[@]}" credential "$T/rsa.resp" "$T/rsa.cred.check"
check "... credential is a TPM2B_ID_OBJECT of 0x44 bytes (SHA-256, 32-byte secret)" \
    test "$(jq -r .credential "$T/rsa.resp" | base64 -d | head -c2 | xxd -p)" = 0044
check "... secret is a TPM2B_ENCRYPTED_SECRET of 256 bytes (RSA-2048 OAEP)" \
    test "$(jq -r .secret "$T/rsa.resp" | base64 -d | head -c2 | xxd -p)" = 0100
check "tpm2_activatecredential recovers the secret on the swtpm" activate rsa ak rsa
check "... 32 bytes" test "$(stat -c %s "$T/rsa.secret" 2>/dev/null)" = 32
st=$(secret rsa)
check "POST /secret: 200 (got $st)" test "$st" = 200
n=$("${HELPER[@]}" chain "$T/rsa.chain" "$T" 2>/dev/null)
check "... a chain of two: AK certificate, intermediate (got $n)" test "$n" = 2
mv "$T/0.pem" "$T/ak_rsa.pem" 2>/dev/null
mv "$T/1.pem" "$T/ak_rsa_inter.pem" 2>/dev/null
check "... the intermediate is the attestation intermediate" \
    cmp <(openssl x509 -in "$T/ak_rsa_inter.pem" -outform der) \
    <(openssl x509 -in "$ATT_INTER" -outform der)
check "openssl verify -x509_strict: AK certificate -> attestation root" \
    openssl verify -x509_strict -CAfile "$ATT_ROOT" -untrusted "$ATT_INTER" \
    "$T/ak_rsa.pem"
openssl x509 -in "$T/ak_rsa.pem" -noout -text >"$T/ak_rsa.txt" 2>&1
check "... empty subject" \
    test -z "$(openssl x509 -in "$T/ak_rsa.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
check "... EKU is 2.23.133.8.3 alone (no clientAuth/serverAuth)" \
    test "$(grep -A1 'X509v3 Extended Key Usage' "$T/ak_rsa.txt" | tail -1 | tr -d ' ')" = 2.23.133.8.3
check "... critical SAN" grep -q 'X509v3 Subject Alternative Name: critical' "$T/ak_rsa.txt"
check "... URI SAN is the EK URN" grep -qF "URI:$URN_RSA" "$T/ak_rsa.txt"
check "... directoryName with the TPM manufacturer/model/version of the EK certificate" \
    grep -qE 'DirName:.*2\.23\.133\.2\.1 *= *id:00001014.*2\.23\.133\.2\.2 *= *swtpm.*2\.23\.133\.2\.3 *= *id:20191023' "$T/ak_rsa.txt"
check "... the AK's public key" \
    cmp <(openssl x509 -in "$T/ak_rsa.pem" -pubkey -noout) \
    <(tpm2_print -t TPM2B_PUBLIC -f pem "$TS/ak.pub" 2>/dev/null)
check "... CA:FALSE and digitalSignature" \
    bash -c "grep -q 'CA:FALSE' '$T/ak_rsa.txt' && grep -q 'Digital Signature' '$T/ak_rsa.txt'"
st=$(admin GET "$A/devices/$DEV")
check "the device is active and was seen" \
    jq -e '.status == "active" and (.lastSeenAt | type) == "string"' "$T/resp"
SERIAL_RSA=$(serial_of "$T/ak_rsa.pem")
"$DEVID" audit export --out "$T/audit.jsonl" --data "$DATA" 2>"$T/audit.err"
check "the AK certificate is audited (cert.issue, actor tpm:<EK URN>)" \
    jq -s -e --arg s "$SERIAL_RSA" --arg a "tpm:$URN_RSA" \
    'any(.[]; .object == $s and .action == "cert.issue" and .actor == $a)' \
    "$T/audit.jsonl"

# ---- replayed and wrong secrets ----------------------------------------
st=$(secret rsa)
check "the same secret again: 401 (got $st)" test "$st" = 401
check "... says it was used" jq -e '.detail | test("used already")' "$T/rsa.chain"
head -c 32 /dev/urandom >"$T/wrong.secret"
st=$(secret wrong)
check "a secret nobody was given: 401 (got $st)" test "$st" = 401
printf 'short' >"$T/short.secret"
st=$(secret short)
check "a secret that is not 32 bytes: 400 (got $st)" test "$st" = 400

# ---- ECC P-384 EK (registered through its ek-cert identifier) ----------
body ecc akecc "$TS/ek_ecc.der" --ek-cert "$TS/ek_ecc.crt" --ek-cert "$TS/ek_rsa.crt"
st=$(attest ecc)
check "POST /attest (P-384 EK, registered as ek-cert): 200 (got $st)" test "$st" = 200
check "tpm2_activatecredential with the P-384 EK (PolicyOR session)" activate ecc akecc ecc
st=$(secret ecc)
check "POST /secret (P-384): 200 (got $st)" test "$st" = 200
"${HELPER[@]}" chain "$T/ecc.chain" "$T" >/dev/null 2>&1
mv "$T/0.pem" "$T/ak_ecc.pem" 2>/dev/null
check "... verifies; URI SAN is the P-384 EK URN" bash -c "
    openssl verify -x509_strict -CAfile '$ATT_ROOT' -untrusted '$ATT_INTER' '$T/ak_ecc.pem' >/dev/null &&
    openssl x509 -in '$T/ak_ecc.pem' -noout -ext subjectAltName | grep -qF 'URI:$URN_ECC'"

# ---- the EK without its certificate (allowEkWithoutCert default true) --
body nocert ak2 "$TS/ek_rsa.der"
st=$(attest nocert)
check "registered EK without a certificate: 200 by default (got $st)" test "$st" = 200

# ---- the AK checks ----------------------------------------------------
body nr aknr "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt"
st=$(attest nr)
check "AK without restricted: 400 (got $st)" test "$st" = 400
check "... naming the attributes" jq -e '.detail | test("restricted")' "$T/nr.resp"
body tamper ak2 "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt" --tamper-sig
st=$(attest tamper)
check "tampered creation signature: 400 (got $st)" test "$st" = 400
check "... says the signature does not verify" \
    jq -e '.detail | test("createSignature")' "$T/tamper.resp"
body tcsd ak2 "$TS/ek_rsa.der" --tcsd
st=$(attest tcsd)
check "useTCSDActivationFormat: 400 (got $st)" test "$st" = 400
echo '{"ek":"AAAA","params":{"public":"AAAA"},"extra":1}' >"$T/bad.json"
st=$(attest bad)
check "unknown member: 400 (got $st)" test "$st" = 400

# ---- policy: an EK certificate is required ----------------------------
set_policy "$(jq -cn --arg r "$T/ekroots" '{ekRoots: $r, allowEkWithoutCert: false}')"
st=$(attest nocert)
check "allowEkWithoutCert false, no certificate: 403 (got $st)" test "$st" = 403

# ---- an EK certificate from a root we do not trust ---------------------
set_policy "$(jq -cn --arg r "$T/ekroots-untrusted" '{ekRoots: $r}')"
body untrusted ak2 "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt"
st=$(attest untrusted)
check "EK certificate from an untrusted root: 401 (got $st)" test "$st" = 401
check "... says it does not chain" jq -e '.detail | test("chain")' "$T/untrusted.resp"
body wrongcert ak2 "$TS/ek_rsa.der" --ek-cert "$TS/ek_ecc.crt"
set_policy "$(jq -cn --arg r "$T/ekroots" '{ekRoots: $r}')"
st=$(attest wrongcert)
check "only another EK's certificate sent: 403 (got $st)" test "$st" = 403

# ---- an expired session -----------------------------------------------
set_policy "$(jq -cn --arg r "$T/ekroots" '{ekRoots: $r, sessionLifetime: "1s"}')"
body expire ak2 "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt"
st=$(attest expire)
check "POST /attest with a 1 s session: 200 (got $st)" test "$st" = 200
check "... activates" activate expire ak2 rsa
sleep 2.2
st=$(secret expire)
check "the secret after the session expired: 401 (got $st)" test "$st" = 401
check "... says it expired" jq -e '.detail | test("expired")' "$T/expire.chain"

# ---- a retired device --------------------------------------------------
st=$(admin POST "$A/devices/$DEV:retire" '{}')
check "retire the device (got $st)" test "$st" = 200
check "... revokes its AK certificates" \
    jq -e --arg s "$SERIAL_RSA" '[.. | .serial? // empty] | index($s) != null' "$T/resp"
body retired ak2 "$TS/ek_rsa.der" --ek-cert "$TS/ek_rsa.crt"
st=$(attest retired)
check "retired device: 403 (got $st)" test "$st" = 403
check "... says it is retired" jq -e '.detail | test("retired")' "$T/retired.resp"

tpm_stop
finish
