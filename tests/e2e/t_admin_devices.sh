#!/bin/bash
# t_admin_devices.sh - the device inventory through the admin API (curl)
# and the CLI: add (EK URN as step computes it), duplicate identifiers
# refused naming the holder, list with filters and cursors, get, patch,
# retire (the device's certificates revoked: CRL and OCSP say so at once),
# import of 1000 CSV rows with bad ones, collections, tokens, the audit
# log's export and verification (and a tampered row found).
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || die "t_admin_devices needs sqlite3"
ca_init
start_server
DATA="$T/data"
DB="$DATA/devid.db"
OWNER=$(head -n1 "$DATA/admin/owner.token")
A="https://$HOSTPORT/admin/v1/teams/default"
D=("$DEVID" device)
ADM=(--data "$DATA")

req() {	# req METHOD URL [BODY [CTYPE]]: status; body in $T/resp
	local m=$1 u=$2 body=${3-} ct=${4:-application/json}
	local args=(-H "Authorization: Bearer $OWNER")
	[ -n "$body" ] && args+=(-H "Content-Type: $ct" --data-binary "$body")
	http "$m" "$u" "$T/resp" "${args[@]}"
}

# ---- add through the API, with an EK public key ---------------------------
openssl ecparam -name prime256v1 -genkey -noout -out "$T/ek.key" 2>/dev/null
openssl ec -in "$T/ek.key" -pubout -out "$T/ek.pub" 2>/dev/null
openssl pkey -pubin -in "$T/ek.pub" -outform DER -out "$T/ek.der"
URN="urn:ek:sha256:$(openssl dgst -sha256 -binary "$T/ek.der" | base64 -w0)"
body=$(jq -cn --rawfile ek "$T/ek.pub" '{name:"laptop-1",owner:"alice@example.com",
    os:"linux",kind:"laptop",identifiers:[{type:"ek",value:$ek},
    {type:"serial",value:"SN-0001"}],tags:["finance"]}')
st=$(req POST "$A/devices" "$body")
check "POST devices: 201 (got $st)" test "$st" = 201
DEV1=$(jq -r .id "$T/resp")
check "the device id is dev_..." bash -c "[[ '$DEV1' == dev_* ]]"
check "the EK is stored as step's URN (SHA-256 of the SPKI DER)" \
    test "$(jq -r '.identifiers[] | select(.type == "ek") | .value' "$T/resp")" = "$URN"
check "status approved by default for an admin's registration" \
    test "$(jq -r .status "$T/resp")" = approved

# ---- a duplicate identifier is refused, naming the holder -----------------
st=$(req POST "$A/devices" '{"name":"dup","identifiers":[{"type":"serial","value":"SN-0001"}]}')
check "duplicate serial: 409 (got $st)" test "$st" = 409
check "... the problem names the device holding it" grep -q "$DEV1" "$T/resp"
body=$(jq -cn --arg u "$URN" '{name:"dup2",identifiers:[{type:"ek",value:$u}]}')
st=$(req POST "$A/devices" "$body")
check "duplicate EK (given as its URN): 409 (got $st)" test "$st" = 409
out=$("${D[@]}" add dup3 --serial SN-0001 "${ADM[@]}" 2>&1)
st=$?
check "CLI add of a duplicate exits 1 (got $st)" test "$st" = 1
check "... saying which device holds it" grep -q "$DEV1" <<<"$out"

# ---- add through the CLI --------------------------------------------------
"${D[@]}" add laptop-2 --serial SN-0002 --owner bob@corp.example --os macos \
    --kind laptop --tag finance --tag travel "${ADM[@]}" >"$T/add2.json" 2>"$T/add2.err"
check "CLI device add (exit $?)" test -s "$T/add2.json"
DEV2=$(jq -r .id "$T/add2.json")
"${D[@]}" add vm-3 --serial SN-0003 --status pending --kind vm "${ADM[@]}" \
    >"$T/add3.json" 2>>"$T/add2.err"
DEV3=$(jq -r .id "$T/add3.json")
check "CLI --status pending is kept" test "$(jq -r .status "$T/add3.json")" = pending

# ---- list: filters and cursors --------------------------------------------
st=$(req GET "$A/devices?tag=finance")
check "list ?tag=finance: 2 devices ($st)" test "$(jq '.devices | length' "$T/resp")" = 2
st=$(req GET "$A/devices?owner=@corp.example")
check "list ?owner=@corp.example: laptop-2 only" \
    test "$(jq -r '[.devices[].name] | join(",")' "$T/resp")" = laptop-2
st=$(req GET "$A/devices?status=pending")
check "list ?status=pending: vm-3 only" \
    test "$(jq -r '[.devices[].id] | join(",")' "$T/resp")" = "$DEV3"
st=$(req GET "$A/devices?identifier=$(jq -rn --arg u "$URN" '$u|@uri')")
check "list ?identifier=<EK URN>: laptop-1" \
    test "$(jq -r '.devices[0].id' "$T/resp")" = "$DEV1"
st=$(req GET "$A/devices?seenAfter=not-a-time")
check "list ?seenAfter=garbage: 400 (got $st)" test "$st" = 400
st=$(req GET "$A/devices?limit=1")
p1=$(jq -r '.devices[0].id' "$T/resp")
c1=$(jq -r .nextCursor "$T/resp")
check "list ?limit=1 gives a nextCursor" test -n "$c1"
st=$(req GET "$A/devices?limit=1&cursor=$c1")
p2=$(jq -r '.devices[0].id' "$T/resp")
check "the next page holds the next device ($p1 then $p2)" \
    bash -c "[ -n '$p2' ] && [ '$p1' != '$p2' ]"
"${D[@]}" list --all --json "${ADM[@]}" --limit 1 >"$T/all.jsonl" 2>"$T/list.err"
check "CLI list --all --limit 1 follows the cursors (3 devices)" \
    test "$(wc -l <"$T/all.jsonl")" = 3
"${D[@]}" list --tag travel "${ADM[@]}" >"$T/table.txt" 2>>"$T/list.err"
check "CLI list prints a table with laptop-2" grep -q "laptop-2" "$T/table.txt"

# ---- get and patch -------------------------------------------------------
"${D[@]}" get "$DEV2" "${ADM[@]}" >"$T/get.json" 2>"$T/get.err"
check "CLI get" test "$(jq -r .name "$T/get.json")" = laptop-2
"${D[@]}" patch "$DEV3" --status approved --os debian --tag lab "${ADM[@]}" \
    >"$T/patch.json" 2>"$T/patch.err"
check "CLI patch: status approved, os debian, tags [lab]" \
    test "$(jq -c '[.status, .os, .tags]' "$T/patch.json")" = '["approved","debian",["lab"]]'
st=$(req PATCH "$A/devices/$DEV3" '{"color":"red"}')
check "PATCH with an unknown member: 400 (got $st)" test "$st" = 400
st=$(req PATCH "$A/devices/$DEV3" '{"status":"retired"}')
check "PATCH to retired is refused (retire has its own route): 400 (got $st)" \
    test "$st" = 400
st=$(req GET "$A/devices/dev_nonexistent")
check "GET an unknown device: 404 (got $st)" test "$st" = 404

# ---- retire revokes the device's certificates ------------------------------
issue laptop-1.example.com "$T/l1.crt" "$T/l1.key" >/dev/null 2>&1 ||
    die "issuing a certificate failed"
issue laptop-1b.example.com "$T/l1b.crt" "$T/l1b.key" >/dev/null 2>&1 ||
    die "issuing a second certificate failed"
issue other.example.com "$T/o.crt" "$T/o.key" >/dev/null 2>&1 ||
    die "issuing an unrelated certificate failed"
S1=$(serial_of "$T/l1.crt")
S1B=$(serial_of "$T/l1b.crt")
SO=$(serial_of "$T/o.crt")
# No API links certificates to devices yet (the Agent CA will): link the
# first two to laptop-1 in the store, as issuance will.
sqlite3 "$DB" "PRAGMA busy_timeout=5000; UPDATE certificates SET device_id='$DEV1' WHERE serial IN ('$S1','$S1B');" ||
    die "cannot link the certificates to the device"
# the CRL is cached before the retirement, so a stale cache would show
curl -fsS --cacert "$ROOTS" "$CA/crl" -o "$T/crl0.der"
"${D[@]}" retire "$DEV1" "${ADM[@]}" >"$T/retire.json" 2>"$T/retire.err"
check "CLI retire (exit $?): status retired" \
    test "$(jq -r .device.status "$T/retire.json")" = retired
check "retire reports both certificates revoked" \
    test "$(jq -r '[.revoked[].serial] | sort | join(",")' "$T/retire.json")" = \
    "$(printf '%s\n' "$S1" "$S1B" | sort | paste -sd,)"
curl -fsS --cacert "$ROOTS" "$CA/crl" -o "$T/crl1.der"
openssl crl -inform DER -in "$T/crl1.der" -noout -text >"$T/crl1.txt"
hex() { python3 -c 'import sys; print("%X" % int(sys.argv[1]))' "$1"; }
h1=$(hex "$S1"); h1b=$(hex "$S1B"); ho=$(hex "$SO")
check "the CRL right after retire lists the first serial" grep -qi "$h1" "$T/crl1.txt"
check "... and the second" grep -qi "$h1b" "$T/crl1.txt"
check "... but not the unrelated certificate" bash -c "! grep -qi '$ho' '$T/crl1.txt'"
check "... with reason cessationOfOperation" grep -q "Cessation Of Operation" "$T/crl1.txt"
ocsp() {
	openssl ocsp -issuer "$INTER" -cert "$1" -url "$CA/ocsp" \
	    -CAfile "$ROOT" -no_nonce 2>/dev/null | grep -E "^$1: "
}
check "OCSP says the first certificate is revoked" \
    bash -c "$(declare -f ocsp); INTER='$INTER' CA='$CA' ROOT='$ROOT' ocsp '$T/l1.crt' | grep -q revoked"
check "OCSP says the unrelated certificate is good" \
    bash -c "$(declare -f ocsp); INTER='$INTER' CA='$CA' ROOT='$ROOT' ocsp '$T/o.crt' | grep -q good"
st=$(req GET "$A/devices?status=retired")
check "list ?status=retired: laptop-1" test "$(jq -r '.devices[0].id' "$T/resp")" = "$DEV1"

# ---- import 1000 CSV rows, 5 of them bad -----------------------------------
python3 - "$T/import.csv" <<'EOF'
import sys
rows = ["name,owner,os,kind,source,status,ek,ek_cert,serial,udid,yubikey_serial,tags"]
bad = {100: ",,linux,laptop,,,,,IMP-BAD-1,,,",            # no name
       200: "b2,,linux,laptop,,exploded,,,IMP-BAD-2,,,",  # bad status
       300: "b3,,linux,laptop,,,not-a-key,,IMP-BAD-3,,,", # bad EK
       400: "b4,,linux,laptop,,,,,,,,",                   # no identifier
       500: "b5,,linux,laptop"}                           # short row
for i in range(1, 1001):
    rows.append(bad.get(i, "imp-%04d,u%d@example.com,linux,laptop,,,,,IMP-%04d,,,import;bulk" % (i, i, i)))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
EOF
"${D[@]}" import "$T/import.csv" --json "${ADM[@]}" >"$T/imp.json" 2>"$T/imp.err"
st=$?
check "CLI import of rows with rejections exits 1 (got $st)" test "$st" = 1
check "import: 995 created" test "$(jq .created "$T/imp.json")" = 995
check "import: 5 rejected" test "$(jq .rejected "$T/imp.json")" = 5
check "import: the rejected rows are reported by number with a reason" \
    test "$(jq -c '[.rows[] | select(.result == "rejected") | .row] | sort' "$T/imp.json")" = \
    '[100,200,300,400,500]'
check "... every rejection says why" \
    test "$(jq '[.rows[] | select(.result == "rejected" and (.error | length) > 0)] | length' "$T/imp.json")" = 5
check "the CLI names the rejected rows on stderr" grep -q "5 rows" "$T/imp.err"
st=$(req GET "$A/devices?tag=bulk&limit=100")
check "the imported devices are listed (a full page of 100)" \
    test "$(jq '.devices | length' "$T/resp")" = 100
st=$(req POST "$A/devices:import" "$(cat "$T/import.csv")" text/csv)
check "importing the same file again: 200 (got $st)" test "$st" = 200
check "... 995 unchanged, none created" \
    test "$(jq -c '[.created, .unchanged, .rejected]' "$T/resp")" = '[0,995,5]'
"${D[@]}" import "$T/import.csv" --json --chunk-bytes 4096 "${ADM[@]}" \
    >"$T/imp3.json" 2>"$T/imp3.err"
check "the CLI in 4 KiB chunks (many requests): 995 unchanged, 5 rejected" \
    test "$(jq -c '[.created, .unchanged, .rejected]' "$T/imp3.json")" = '[0,995,5]'
check "... the rejected rows keep their numbers in the whole file" \
    test "$(jq -c '[.rows[] | select(.result == "rejected") | .row] | sort' "$T/imp3.json")" = \
    '[100,200,300,400,500]'
printf '{"name":"jl-1","identifiers":[{"type":"serial","value":"JL-1"}]}\n{"name":"jl-2","identifiers":[{"type":"serial","value":"JL-2"}]}\n' >"$T/i.jsonl"
"${D[@]}" import "$T/i.jsonl" "${ADM[@]}" >"$T/jl.out" 2>&1
check "CLI import of JSON lines: 2 created (exit $?)" grep -q "created 2" "$T/jl.out"
st=$(req POST "$A/devices:import" "a,b" application/xml)
check "an import with another Content-Type: 400 (got $st)" test "$st" = 400

# ---- collections -----------------------------------------------------------
"$DEVID" collection create linux-laptops --kind laptop --os linux \
    --source api --rule tag=bulk "${ADM[@]}" >"$T/coll.json" 2>"$T/coll.err"
check "CLI collection create (exit $?)" test "$(jq -r .name "$T/coll.json")" = linux-laptops
"$DEVID" collection list "${ADM[@]}" >"$T/colls.json" 2>>"$T/coll.err"
check "CLI collection list names it" grep -q linux-laptops "$T/colls.json"
"$DEVID" collection get linux-laptops "${ADM[@]}" >"$T/coll2.json" 2>>"$T/coll.err"
check "CLI collection get" test "$(jq -r .name "$T/coll2.json")" = linux-laptops
st=$(req GET "$A/devices?collection=linux-laptops&limit=100")
check "list ?collection=linux-laptops: the imported laptops" \
    test "$(jq '.devices | length' "$T/resp")" = 100
"$DEVID" collection delete linux-laptops "${ADM[@]}" >/dev/null 2>>"$T/coll.err"
st=$(req GET "$A/collections/linux-laptops")
check "after CLI collection delete: 404 (got $st)" test "$st" = 404

# ---- admin tokens through the CLI ------------------------------------------
"$DEVID" admin-token create ci-viewer --role viewer --out "$T/viewer.token" \
    "${ADM[@]}" >"$T/tok.json" 2>"$T/tok.err"
check "CLI admin-token create --out writes the secret 0600" \
    test "$(stat -c %a "$T/viewer.token" 2>/dev/null)" = 600
VID=$(jq -r .id "$T/tok.json")
check "... and prints the metadata without the secret" \
    test "$(jq -r '.token // "none"' "$T/tok.json")" = none
"$DEVID" device list --token-file "$T/viewer.token" "${ADM[@]}" >/dev/null 2>&1
check "a viewer token lists devices" test $? = 0
out=$("$DEVID" device add x --serial X-1 --token-file "$T/viewer.token" "${ADM[@]}" 2>&1)
check "a viewer cannot add (403, with what to do)" grep -q "403.*role" <<<"$out"
"$DEVID" admin-token list "${ADM[@]}" >"$T/toks.json" 2>>"$T/tok.err"
check "CLI admin-token list shows it" grep -q "$VID" "$T/toks.json"
"$DEVID" admin-token revoke "$VID" "${ADM[@]}" >/dev/null 2>>"$T/tok.err"
out=$(DEVID_TOKEN=$(cat "$T/viewer.token") "$DEVID" device list --data "$DATA" 2>&1)
check "the revoked token (via DEVID_TOKEN) gets a 401 with a hint" \
    grep -q "401.*admin-token create" <<<"$out"

# ---- audit -----------------------------------------------------------------
"$DEVID" audit export --out "$T/audit.jsonl" "${ADM[@]}" 2>"$T/audit.err"
check "CLI audit export writes JSON lines (exit $?)" \
    bash -c "[ \$(wc -l <'$T/audit.jsonl') -gt 10 ] && jq -e . '$T/audit.jsonl' >/dev/null"
check "the export holds the retirement" grep -q "$DEV1" "$T/audit.jsonl"
"$DEVID" audit verify "${ADM[@]}" >"$T/verify.out" 2>&1
check "CLI audit verify: intact (exit $?)" grep -q intact "$T/verify.out"
sqlite3 "$DB" "PRAGMA busy_timeout=5000; UPDATE audit SET actor='mallory' WHERE id=(SELECT MIN(id)+3 FROM audit);"
"$DEVID" audit verify "${ADM[@]}" >"$T/verify2.out" 2>&1
st=$?
check "a changed audit row is detected: audit verify exits 1 (got $st)" test "$st" = 1

finish
