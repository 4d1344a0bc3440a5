# t_mdm.sh - MDM sync (issue 3 item 3, docs/mdm.md): a real HTTPS server on
# loopback (python3 http.server wrapped in TLS with an openssl-made
# certificate) serves the recorded Jamf Pro computers-inventory document
# (paged by number, 2 a page) and the recorded Graph managedDevices pages
# (linked by @odata.nextLink); devid-ca pulls both every 2 s with bearer
# tokens and the source's caFile.  Devices appear (admin API, source
# filter); a device removed from the served document is marked
# missingFromSource, not deleted; a next link to another origin is not
# followed; the webhook applies signed upserts and deletes and refuses
# bad signatures with 401 problem documents.
. "$(dirname "$0")/lib.sh"

DATA="$DEVID_SRC/tests/data/mdm"
MDM_PID=""

ca_init
DIR="$T/data"

# ---- the MDM server --------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/mdm.key" -out "$T/mdm.crt" -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 ||
    die "openssl could not make the MDM server certificate"
cp "$DATA/jamf_computers_inventory.json" "$T/jamf.json"
cp "$DATA/intune_managed_devices_page1.json" "$T/intune1.json"
cp "$DATA/intune_managed_devices_page2.json" "$T/intune2.json"
JAMF_TOKEN=jamf-$RANDOM-$RANDOM-token
INTUNE_TOKEN=eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.intune.$RANDOM
cat >"$T/mdm_server.py" <<'EOF'
# A stand-in for Jamf Pro and Microsoft Graph: serves the recorded
# documents (re-read on every request, so the test can change them),
# checks the bearer token, logs each request line.
import http.server, json, ssl, sys, urllib.parse

d, jamf_tok, intune_tok = sys.argv[1], sys.argv[2], sys.argv[3]

class H(http.server.BaseHTTPRequestHandler):
    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        with open(d + "/requests.log", "a") as f:
            f.write("%s %s\n" % (self.path, "bearer" if auth else "none"))
        me = "https://127.0.0.1:%d" % self.server.server_address[1]
        if u.path == "/api/v1/computers-inventory":
            if auth != "Bearer " + jamf_tok:
                return self.send_json(401, {"httpStatus": 401})
            doc = json.load(open(d + "/jamf.json"))
            page = int(q.get("page", ["0"])[0])
            size = int(q.get("page-size", ["100"])[0])
            res = doc["results"]
            return self.send_json(200, {"totalCount": len(res),
                "results": res[page * size:(page + 1) * size]})
        if u.path == "/v1.0/deviceManagement/managedDevices":
            if auth != "Bearer " + intune_tok:
                return self.send_json(401, {"error": {"code": "InvalidAuthenticationToken"}})
            name = "intune2.json" if "$skiptoken" in q else "intune1.json"
            text = open(d + "/" + name).read()
            return self.send_json(200, json.loads(
                text.replace("https://graph.microsoft.com", me)))
        if u.path == "/evil/managedDevices":
            # a next link to another origin (localhost, not 127.0.0.1)
            return self.send_json(200, {"value": [], "@odata.nextLink":
                me.replace("127.0.0.1", "localhost") + "/steal"})
        if u.path == "/steal":
            with open(d + "/stolen.log", "a") as f:
                f.write(auth + "\n")
            return self.send_json(200, {"value": []})
        self.send_json(404, {})

    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/mdm.crt", d + "/mdm.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(d + "/mdm.port.tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(d + "/mdm.port.tmp", d + "/mdm.port")
srv.serve_forever()
EOF
python3 "$T/mdm_server.py" "$T" "$JAMF_TOKEN" "$INTUNE_TOKEN" \
    >"$T/mdm_server.log" 2>&1 &
MDM_PID=$!
stop_mdm() {
	if [ -n "$MDM_PID" ]; then
		kill "$MDM_PID" 2>/dev/null
		wait "$MDM_PID" 2>/dev/null
		MDM_PID=""
	fi
}
# keep the scenario's status for on_exit (lib.sh)
trap 'st=$?; stop_mdm; (exit $st); on_exit' EXIT
for i in $(seq 1 100); do
	[ -s "$T/mdm.port" ] && break
	sleep 0.1
done
[ -s "$T/mdm.port" ] || die "the MDM server did not start: $(cat "$T/mdm_server.log")"
MP=$(cat "$T/mdm.port")
MDM="https://127.0.0.1:$MP"
check "the MDM server answers over TLS with the Jamf document" \
    curl -fsS --cacert "$T/mdm.crt" -o /dev/null \
    -H "Authorization: Bearer $JAMF_TOKEN" "$MDM/api/v1/computers-inventory"

# ---- the sources -----------------------------------------------------
mkdir -p "$DIR/secrets"
printf '%s\n' "$JAMF_TOKEN" >"$DIR/secrets/jamf.token"
printf '%s\n' "$INTUNE_TOKEN" >"$DIR/secrets/intune.token"
SECRET=$(openssl rand -hex 32)
printf '%s\n' "$SECRET" >"$DIR/secrets/push.webhook"
chmod 600 "$DIR/secrets/"*
jq --arg mdm "$MDM" --arg ca "$T/mdm.crt" '.teams.default.mdm = [
    {name: "jamf",
     mapping: {base: "jamf", page: {param: "page", sizeParam: "page-size",
         size: 2, total: "totalCount"}},
     url: ($mdm + "/api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION"),
     interval: "2s", bearerTokenFile: "secrets/jamf.token", caFile: $ca},
    {name: "intune", mapping: "intune",
     url: ($mdm + "/v1.0/deviceManagement/managedDevices"),
     interval: "2s", bearerTokenFile: "secrets/intune.token", caFile: $ca},
    {name: "evil", mapping: "intune", url: ($mdm + "/evil/managedDevices"),
     interval: "2s", bearerTokenFile: "secrets/intune.token", caFile: $ca},
    {name: "push", mapping: "jamf",
     webhookSecretFile: "secrets/push.webhook"}]' \
    "$DIR/config.json" >"$T/config.json" && mv "$T/config.json" "$DIR/config.json" ||
    die "could not add the MDM sources to config.json"

start_server
[ -s "$DIR/admin/owner.token" ] || die "init wrote no $DIR/admin/owner.token"
TOKEN=$(cat "$DIR/admin/owner.token")
ADMIN="https://$HOSTPORT/admin/v1/teams/default"

# jqe ARGS...: jq -e without printing the result.
jqe() {
	jq -e "$@" >/dev/null
}

# list SOURCE OUT: the devices of source into OUT (one page of 100).
list() {
	http GET "$ADMIN/devices?source=mdm:$1&limit=100" "$2" \
	    -H "Authorization: Bearer $TOKEN"
}

# wait_for DESCRIPTION SOURCE JQ: polls the list until JQ holds (20 s).
wait_for() {
	local desc=$1 src=$2 expr=$3 i
	for i in $(seq 1 100); do
		if [ "$(list "$src" "$T/list.json")" = 200 ] &&
		    jq -e "$expr" "$T/list.json" >/dev/null 2>&1; then
			ok "$desc"
			return 0
		fi
		sleep 0.2
	done
	fail "$desc (last answer: $(head -c 600 "$T/list.json"))"
	return 1
}

# ---- pull ------------------------------------------------------------
wait_for "the 6 Jamf computers appear with source mdm:jamf" jamf \
    '.devices | length == 6'
check "Jamf names, owners, os and identifiers are mapped" jqe '
    (.devices | map(.name) | sort) == ["Q3W5E7R9T1Y2", "alice-mbp",
        "bob-air", "carol-mbp", "erin-mbp", "lab-mini-01"] and
    (.devices[] | select(.name == "alice-mbp") |
        .owner == "alice@example.com" and .os == "macos" and
        .source == "mdm:jamf" and
        ([.identifiers[] | "\(.type)=\(.value)"] | sort) ==
        ["serial=C02XK1ABMD6R", "udid=9C0E3A4B-2F61-5D7E-8A19-4B6C2D0E7F31"])
    and all(.devices[]; .missingFromSource == false)' "$T/list.json"
check "Jamf was read in pages of 2 (page=0..2&page-size=2)" bash -c \
    "grep -q 'page=0&page-size=2 bearer' '$T/requests.log' &&
     grep -q 'page=2&page-size=2 bearer' '$T/requests.log'"
wait_for "the 4 Intune devices of both pages appear (one without identifiers skipped)" \
    intune '.devices | length == 4'
check "Intune os, owner (userPrincipalName) and ownership tag are mapped" \
    jqe '(.devices[] | select(.name == "grace-iphone") |
        .os == "ios" and .owner == "grace@example.com" and
        .tags == ["company-owned"]) and
        (.devices[] | select(.name == "heidi-pixel") |
        .os == "android" and .tags == ["personal"])' "$T/list.json"
check "page 2 was fetched through the rewritten @odata.nextLink" \
    grep -q 'skiptoken.*bearer' "$T/requests.log"
check "a sync logs its counts" grep -q \
    '"event":"mdm.sync".*"source":"intune".*"pages":2.*"devices":4.*"skipped":1' \
    "$T/server.1.log"

# ---- a next link to another origin -----------------------------------
sleep 1
check "a next link to another origin is not followed (no token sent)" \
    test ! -e "$T/stolen.log"
check "... and the sync says why" grep -q \
    '"source":"evil".*leaves the origin' "$T/server.1.log"

# ---- a device disappears from the source -----------------------------
jq '.results |= map(select(.general.name != "carol-mbp")) |
    .totalCount = (.results | length)' "$T/jamf.json" >"$T/jamf.new" &&
    mv "$T/jamf.new" "$T/jamf.json"
wait_for "carol-mbp, gone from Jamf, is marked missingFromSource" jamf \
    '.devices[] | select(.name == "carol-mbp") | .missingFromSource == true'
check "... not deleted: still 6 devices, the other 5 not missing" jqe '
    (.devices | length) == 6 and
    ([.devices[] | select(.missingFromSource == false)] | length) == 5' \
    "$T/list.json"
check "... and a sync reports missing: 1" grep -q \
    '"source":"jamf".*"missing":1' "$T/server.$SERVER_STARTS.log"

# ---- webhook ---------------------------------------------------------
HOOK="$ADMIN/mdm/push/webhook"
# sign FILE [SECRET]: the X-Devid-Signature value of FILE.
sign() {
	printf 'sha256=%s' "$(openssl dgst -sha256 -hmac "${2:-$SECRET}" \
	    -r "$1" | cut -d' ' -f1)"
}
jq -c '{event: "upsert", devices: [.results[0], .results[1]]}' \
    "$DATA/jamf_computers_inventory.json" >"$T/up.json"
st=$(http POST "$HOOK" "$T/hook.out" -H "Content-Type: application/json" \
    -H "X-Devid-Signature: $(sign "$T/up.json")" --data-binary @"$T/up.json")
check "a signed upsert webhook answers 200 (got $st)" test "$st" = 200
check "... with a report" jqe '.skipped == 0' "$T/hook.out"
wait_for "the pushed devices exist with source mdm:push" push \
    '(.devices | map(.name) | sort) == ["alice-mbp", "bob-air"] and
    all(.devices[]; .missingFromSource == false)'

st=$(http POST "$HOOK" "$T/bad.out" -H "Content-Type: application/json" \
    -H "X-Devid-Signature: $(sign "$T/up.json" "not-$SECRET")" \
    --data-binary @"$T/up.json")
check "a wrong signature answers 401 (got $st)" test "$st" = 401
check "... as a problem document" is_problem "$T/bad.out" 401
st=$(http POST "$HOOK" "$T/bad.out" -H "Content-Type: application/json" \
    --data-binary @"$T/up.json")
check "no signature answers 401 (got $st)" test "$st" = 401
check "... as a problem document" is_problem "$T/bad.out" 401
sed 's/bob-air/mallory-air/' "$T/up.json" >"$T/tampered.json"
st=$(http POST "$HOOK" "$T/bad.out" -H "Content-Type: application/json" \
    -H "X-Devid-Signature: $(sign "$T/up.json")" \
    --data-binary @"$T/tampered.json")
check "a body changed after signing answers 401 (got $st)" test "$st" = 401
st=$(http POST "$ADMIN/mdm/jamf/webhook" "$T/bad.out" \
    -H "X-Devid-Signature: $(sign "$T/up.json")" --data-binary @"$T/up.json")
check "a source without a webhook secret answers 404 (got $st)" \
    test "$st" = 404
check "the pushed devices did not change" bash -c \
    "[ \$(curl -sS --cacert '$ROOTS' -H 'Authorization: Bearer $TOKEN' \
    '$ADMIN/devices?source=mdm:push&limit=100' | jq '.devices | length') = 2 ]"

jq -c '{event: "delete", devices: [.results[1]]}' \
    "$DATA/jamf_computers_inventory.json" >"$T/del.json"
st=$(http POST "$HOOK" "$T/hook.out" -H "Content-Type: application/json" \
    -H "X-Devid-Signature: $(sign "$T/del.json")" --data-binary @"$T/del.json")
check "a signed delete webhook answers 200 (got $st)" test "$st" = 200
wait_for "the deleted device is marked missingFromSource, not deleted" push \
    '(.devices | length) == 2 and
    (.devices[] | select(.name == "bob-air") | .missingFromSource == true) and
    (.devices[] | select(.name == "alice-mbp") | .missingFromSource == false)'

stop_mdm
finish
