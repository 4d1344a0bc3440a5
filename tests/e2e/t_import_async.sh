# t_import_async.sh - a large import runs off the event loop: with a single
# worker thread, /health keeps answering within a second while 40 000
# devices are imported, and the import itself completes with its report.
. "$(dirname "$0")/lib.sh"

ca_init
jq '.workers = 1' "$T/data/config.json" >"$T/c.json" &&
    cp "$T/c.json" "$T/data/config.json" || die "cannot edit config"
start_server
OWNER=$(head -n1 "$T/data/admin/owner.token")
A="https://$HOSTPORT/admin/v1/teams/default"

python3 - "$T/big.csv" <<'EOF_PY'
import sys
rows = ["name,owner,os,kind,source,status,ek,ek_cert,serial,udid,yubikey_serial,tags"]
for i in range(40000):
    rows.append("big-%05d,,linux,server,,,,,BIG-%05d,,,bulk" % (i, i))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
EOF_PY
curl -s -o "$T/imp.json" -w '%{http_code}' --max-time 300 --cacert "$ROOTS" \
    -H "Authorization: Bearer $OWNER" -H 'Content-Type: text/csv' \
    --data-binary "@$T/big.csv" "$A/devices:import" >"$T/imp.status" &
IMP=$!
sleep 0.5
slow=0 n=0
while kill -0 "$IMP" 2>/dev/null && [ "$n" -lt 40 ]; do
	t0=$(date +%s%N)
	healthy || slow=$((slow + 1))
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -gt 1000 ] && slow=$((slow + 1))
	n=$((n + 1))
	sleep 0.1
done
wait "$IMP"
check "the import was still running during $n health checks" test "$n" -ge 3
check "/health answered within 1 s every time during the import ($slow slow)" \
    test "$slow" = 0
check "the import answered 200 (got $(cat "$T/imp.status"))" \
    test "$(cat "$T/imp.status")" = 200
check "... 40 000 created" test "$(jq .created "$T/imp.json")" = 40000
check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
