#!/bin/bash
# attest.sh BUILD_DIR - the Attestation CA benchmark (issue 4): devid-ca on
# a fresh data folder and a free loopback port, bench_attest with RSA-2048
# and then ECC P-384 EKs (software TPMs, prepared requests), the server's
# CPU per /attest + /secret pair against the targets (<= 1 ms RSA-2048,
# <= 2 ms P-384, one core) and against the in-process limit: before each
# HTTP run, bench_attest --floor times the same pair's parsing and crypto
# through the server's own functions on one thread (no HTTP, TLS or
# store); the HTTP run reports floor_ratio = srv CPU / floor and
# overhead_ms = srv CPU - floor.  Prints a table; exits 0.
#
# Knobs (environment): CONNS (4), WARM (2), DUR (10), EKS ("rsa ecc"),
# FLOOR_DUR (3; 0 skips the floor), KEEP=1 keeps the temp dir.  devid-ca
# is started and stopped by PID.
set -u

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
CONNS=${CONNS:-4}
WARM=${WARM:-2}
DUR=${DUR:-10}
EKS=${EKS:-"rsa ecc"}
FLOOR_DUR=${FLOOR_DUR:-3}
BENCH=$BUILD/bench_attest
DEVID=$BUILD/devid-ca

T=$(mktemp -d /tmp/devid-bench-attest.XXXXXX)
DPID=
cleanup() {
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
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

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_tls PORT: until a TLS handshake succeeds (20 s at most)
wait_tls() {
	local i
	for i in $(seq 1 200); do
		kill -0 "$DPID" 2>/dev/null || return 1
		if openssl s_client -connect "127.0.0.1:$1" </dev/null \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stop_devid() {
	local i
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

for f in "$BENCH" "$DEVID"; do
	if [ ! -x "$f" ]; then
		echo "attest.sh: $f missing (cmake --build $BUILD)" >&2
		exit 0
	fi
done

say "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (a busy machine skews every figure)"
PORT=$(free_port)
if ! "$DEVID" init --data "$T/data" --listen "127.0.0.1:$PORT" \
    >"$T/init.log" 2>&1; then
	say "devid-ca init failed"
	tail -5 "$T/init.log" >&2
	exit 0
fi
"$DEVID" serve --data "$T/data" >"$T/devid.log" 2>&1 &
DPID=$!
if ! wait_tls "$PORT"; then
	say "devid-ca did not start:"
	tail -5 "$T/devid.log" >&2
	exit 0
fi

RESULTS=$T/results.txt
: >"$RESULTS"
for ek in $EKS; do
	floor=()
	if [ "$FLOOR_DUR" != 0 ]; then
		say "$ek EKs: the in-process floor, ${FLOOR_DUR}s on one thread"
		"$BENCH" --floor --ek "$ek" -d "$FLOOR_DUR" >"$T/floor.txt"
		tee -a "$RESULTS" <"$T/floor.txt"
		fm=$(sed -n 's/^LIMIT .* floor_ms=\([0-9.]*\).*/\1/p' \
		    "$T/floor.txt")
		if [ -n "$fm" ]; then
			floor=(--floor-ms "$fm")
		else
			say "the floor failed; the HTTP run goes without it"
		fi
	fi
	say "$ek EKs: $CONNS connections, warm-up ${WARM}s, ${DUR}s"
	"$BENCH" --url "https://127.0.0.1:$PORT" --data "$T/data" --ek "$ek" \
	    -c "$CONNS" -w "$WARM" -d "$DUR" --pid "$DPID" "${floor[@]}" |
	    tee -a "$RESULTS"
done
stop_devid

echo
python3 - "$RESULTS" <<'EOF'
import sys
rows, parts, other = [], [], {}
for line in open(sys.argv[1]):
    w = line.split()
    kv = dict(x.split("=", 1) for x in w[1:] if "=" in x)
    if w and w[0] == "RESULT":
        rows.append(kv)
    elif w and w[0] == "LIMIT":
        other[kv["label"]] = kv.get("other_cores", "?")
    elif w and w[0] == "LIMIT_PARTS":
        parts.append((kv.pop("label"), kv))
print("EK        c   pairs/s   pair p50  p99 ms  attest p50  secret p50  "
      "srv CPU ms/pair  target  ratio  verdict  srv cores  cli CPU ms  other cores  failed"
      "  floor ms  floor ratio  overhead ms")
for r in rows:
    ok = float(r["srv_cpu_ms"]) <= float(r["target_ms"])
    print("%-8s %2s %9.1f %10.2f %7.2f %11.2f %11.2f %16.3f %7.1f %6.2f  %-7s %10.2f %11.3f %12s %7s %9s %12s %12s" % (
        r["label"], r["c"], float(r["pairs_per_s"]), float(r["p50"]),
        float(r["p99"]), float(r["attest_p50"]), float(r["secret_p50"]),
        float(r["srv_cpu_ms"]), float(r["target_ms"]), float(r["ratio"]),
        "MET" if ok else "MISS", float(r["srv_cores"]),
        float(r["cli_cpu_ms"]), r["other_cores"], r["failed"],
        r.get("floor_ms", "-"), r.get("floor_ratio", "-"),
        r.get("overhead_ms", "-")))
print("(srv CPU: utime+stime of devid-ca and its signer child over the window,"
      " per completed pair; ratio = srv CPU / target; other cores above ~0.1:"
      " the run is disturbed; floor: the same pair's parsing and crypto in"
      " one thread of bench_attest --floor, no HTTP, TLS or store; floor"
      " ratio = srv CPU / floor, overhead = srv CPU - floor, what HTTP, TLS,"
      " the store, logging and threads cost per pair)")
if parts:
    print()
    print("floor parts, CPU ms per pair:")
    for label, kv in parts:
        print("%-8s %s  (other cores %s)" % (label, "  ".join(
            "%s %s" % x for x in kv.items()), other.get(label, "?")))
EOF
exit 0
