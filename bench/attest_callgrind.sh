#!/bin/bash
# attest_callgrind.sh BUILD_DIR [EK] - instructions per /attest + /secret
# pair of the Attestation CA (issue 4), a figure a shared machine does not
# disturb (bench/attest.sh's CPU milliseconds are): devid-ca and its
# signer child run under valgrind --tool=callgrind, their counters are
# zeroed once the server answers TLS, bench_attest drives it with 2
# connections for SHORT and then, on a fresh server, LONG seconds, and the
# per-pair figure is the slope between the two runs (total instructions
# over issued AK certificates, so the start-up, registration and shutdown
# left in both cancel out).  EK: rsa (default) or ecc.
#
# Knobs (environment): SHORT (3), LONG (20), CONNS (2), KEEP=1 keeps the
# callgrind files (callgrind_annotate --inclusive=yes --tree=calling).
# Every process is started and stopped by PID.  Prints one line; exits 0.
set -u

BUILD=${1:-build}
EK=${2:-rsa}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
SHORT=${SHORT:-3}
LONG=${LONG:-20}
CONNS=${CONNS:-2}

for f in "$BUILD/bench_attest" "$BUILD/devid-ca"; do
	if [ ! -x "$f" ]; then
		echo "attest_callgrind.sh: $f missing" >&2
		exit 0
	fi
done
if ! command -v callgrind_control >/dev/null; then
	echo "attest_callgrind.sh: valgrind is not installed" >&2
	exit 0
fi

T=$(mktemp -d /tmp/devid-bench-cg.XXXXXX)
VPID=
cleanup() {
	if [ -n "$VPID" ]; then
		kill "$VPID" 2>/dev/null
		wait "$VPID" 2>/dev/null
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run NAME SECONDS: writes "instructions issued" of one server lifetime
# to $T/NAME/out
run() {
	local d=$T/$1 port p i ir tot=0 n
	mkdir -p "$d"
	port=$(free_port)
	if ! "$BUILD/devid-ca" init --data "$d/data" \
	    --listen "127.0.0.1:$port" >"$d/init.log" 2>&1; then
		echo "attest_callgrind.sh: devid-ca init failed" >&2
		return 1
	fi
	valgrind --tool=callgrind --trace-children=yes \
	    --callgrind-out-file="$d/cg.%p" --log-file="$d/vg.%p.log" \
	    "$BUILD/devid-ca" serve --data "$d/data" >"$d/devid.log" 2>&1 &
	VPID=$!
	for i in $(seq 1 600); do
		kill -0 "$VPID" 2>/dev/null || break
		if openssl s_client -connect "127.0.0.1:$port" </dev/null \
		    >/dev/null 2>&1; then
			break
		fi
		sleep 0.2
	done
	sleep 1
	# the server and its signer child (a fork: valgrind follows it)
	for p in $(pgrep -P "$VPID") "$VPID"; do
		callgrind_control -z "$p" >/dev/null 2>&1
	done
	"$BUILD/bench_attest" --url "https://127.0.0.1:$port" \
	    --data "$d/data" --ek "$EK" -c "$CONNS" -w 0 -d "$2" \
	    --pid "$VPID" >"$d/result.txt" 2>"$d/bench.err"
	kill "$VPID"
	wait "$VPID" 2>/dev/null
	VPID=
	n=$(grep -c '"attest.issued"' "$d/devid.log")
	for f in "$d"/cg.*; do
		ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
		tot=$((tot + ${ir:-0}))
	done
	echo "$tot $n" >"$d/out"
}

run short "$SHORT" || exit 0
run long "$LONG" || exit 0
read -r ir1 n1 <"$T/short/out"
read -r ir2 n2 <"$T/long/out"
if [ -z "${n2:-}" ] || [ "$n2" -le "${n1:-0}" ]; then
	echo "attest_callgrind.sh: no pairs completed" >&2
	exit 0
fi
echo "$EK" "$ir1" "$n1" "$ir2" "$n2" | awk '{
	per = ($4 - $2) / ($5 - $3)
	printf "RESULT ek=%s pairs=%d+%d instructions_per_pair=%.0f " \
	    "fixed=%.0f\n", $1, $3, $5, per, $2 - $3 * per }'
exit 0
