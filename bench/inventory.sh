#!/bin/bash
# inventory.sh BUILD_DIR - the inventory benchmark of issue 3 (bench/inventory.c):
#  1. in-process: DEVICES generated devices with EK identifiers imported as
#     JSON lines through inv_import() into a fresh SQLite store, then
#     LOOKUPS lookups by EK URN, PAGES list pages of 100 with a status
#     filter and with a tag filter, and the process's RSS;
#  2. over HTTP: devid-ca serve on 127.0.0.1, HTTP_DEVICES devices POSTed
#     to /admin/v1/teams/default/devices:import in chunks, and the
#     server's RSS afterwards (VmRSS) and at its peak (VmHWM).
# Prints a table with the targets; exits 0 unless a step failed.
#
# Knobs (environment): DEVICES (1000000), LOOKUPS (100000), PAGES (1000),
# CHUNK (100000 rows a call), HTTP_CHUNK (10000 rows a request: XXX a
# request whose import runs longer than the server's 10 s I/O timeout
# (DV_TIMEOUT_READ) is answered with a closed connection), HTTP_DEVICES
# (= DEVICES; 0 skips the HTTP run), KEEP=1 keeps the temp dir.  Every process is started and
# stopped by PID.
set -u

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
DEVICES=${DEVICES:-1000000}
LOOKUPS=${LOOKUPS:-100000}
PAGES=${PAGES:-1000}
CHUNK=${CHUNK:-100000}
HTTP_CHUNK=${HTTP_CHUNK:-10000}
HTTP_DEVICES=${HTTP_DEVICES:-$DEVICES}
BENCH=$BUILD/bench_inventory
DEVID=$BUILD/devid-ca

T=$(mktemp -d /tmp/devid-bench-inv.XXXXXX)
SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $*" >&2; }
die() { echo "inventory.sh: $*" >&2; exit 1; }

for b in "$BENCH" "$DEVID"; do
	[ -x "$b" ] || die "$b is not built (cmake --build $BUILD)"
done

# val FILE KEY: the value of a "key value" line.
val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

say "in-process: $DEVICES devices, $LOOKUPS lookups, $PAGES pages"
"$BENCH" --db "$T/inproc.db" -n "$DEVICES" --lookups "$LOOKUPS" \
    --pages "$PAGES" --chunk "$CHUNK" >"$T/local.out" ||
    die "bench_inventory (in-process) failed: $(tail -5 "$T/local.out")"
cat "$T/local.out" >&2

if [ "$HTTP_DEVICES" -gt 0 ]; then
	say "over HTTP: $HTTP_DEVICES devices"
	PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
	"$DEVID" init --data "$T/data" --listen "127.0.0.1:$PORT" \
	    >"$T/init.out" 2>&1 || die "devid-ca init failed"
	"$DEVID" serve --data "$T/data" --log-level warn >"$T/server.log" 2>&1 &
	SERVER_PID=$!
	for i in $(seq 1 150); do
		curl -fsS --max-time 2 --cacert "$T/data/certs/roots.pem" \
		    -o /dev/null "https://127.0.0.1:$PORT/health" 2>/dev/null &&
		    break
		sleep 0.1
	done
	read -r rss0 _ < <(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
	"$BENCH" --url "https://127.0.0.1:$PORT" \
	    --token-file "$T/data/admin/owner.token" \
	    --root "$T/data/certs/roots.pem" -n "$HTTP_DEVICES" \
	    --chunk "$HTTP_CHUNK" >"$T/http.out" ||
	    die "bench_inventory (HTTP) failed: $(tail -5 "$T/http.out")"
	cat "$T/http.out" >&2
	# a few list pages through the server, so that its caches are warm
	for t in 1 2 3 4 5 6 7 8 9; do
		curl -fsS --cacert "$T/data/certs/roots.pem" \
		    -H "Authorization: Bearer $(cat "$T/data/admin/owner.token")" \
		    -o /dev/null \
		    "https://127.0.0.1:$PORT/admin/v1/teams/default/devices?tag=t$t&limit=100"
	done
	SRSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
	SHWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
fi

L=$T/local.out
H=$T/http.out
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
echo
echo "devid inventory benchmark: $(val "$L" devices) devices with EK identifiers, SQLite (WAL), $(basename "$BUILD")"
printf '%-44s %-26s %s\n' "metric" "value" "target"
printf '%-44s %-26s %s\n' "import, in-process (inv_import, JSON lines)" \
    "$(val "$L" import_rate) devices/s" "minutes for 1M"
printf '%-44s %-26s %s\n' "  time / created / rejected" \
    "$(val "$L" import_seconds) s / $(val "$L" import_created) / $(val "$L" import_rejected)" ""
if [ "$HTTP_DEVICES" -gt 0 ]; then
	printf '%-44s %-26s %s\n' "import, HTTP (POST devices:import, $HTTP_CHUNK a request)" \
	    "$(val "$H" http_import_rate) devices/s" "minutes for 1M"
	printf '%-44s %-26s %s\n' "  time / created / rejected" \
	    "$(val "$H" http_import_seconds) s / $(val "$H" http_import_created) / $(val "$H" http_import_rejected)" ""
fi
printf '%-44s %-26s %s\n' "lookup by EK URN, p50 / p99 ($(val "$L" lookup_n))" \
    "$(val "$L" lookup_p50_us) / $(val "$L" lookup_p99_us) us" "p99 < 1000 us"
printf '%-44s %-26s %s\n' "list 100, status filter, p50 / p99 ($(val "$L" list_status_pages))" \
    "$(val "$L" list_status_p50_ms) / $(val "$L" list_status_p99_ms) ms" "p99 < 50 ms"
printf '%-44s %-26s %s\n' "list 100, tag filter, p50 / p99 ($(val "$L" list_status_pages))" \
    "$(val "$L" list_tag_p50_ms) / $(val "$L" list_tag_p99_ms) ms" "p99 < 50 ms"
printf '%-44s %-26s %s\n' "RSS in-process after the queries / peak" \
    "$(mb "$(val "$L" rss_kib)") / $(mb "$(val "$L" rss_peak_kib)")" "< 200 MB"
if [ "$HTTP_DEVICES" -gt 0 ]; then
	printf '%-44s %-26s %s\n' "server RSS idle / after import / peak" \
	    "$(mb "$rss0") / $(mb "$SRSS") / $(mb "$SHWM")" "< 200 MB"
fi
