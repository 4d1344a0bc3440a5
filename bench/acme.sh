#!/bin/bash
# acme.sh BUILD_DIR - the ACME issuance benchmark (issue 5 "Benchmark",
# spec/performance.md §4, §8(b)): bench_acme (C client, W workers, each
# with its own ES256 account, plus its own http-01 responder on loopback)
# against pebble (Debian; PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0,
# PEBBLE_AUTHZREUSE=0, real validation: NOT always-valid, names resolved to
# 127.0.0.1 by pebble-challtestsrv as the DNS) and against devid-ca (the
# Agent CA's "acme" provisioner with httpPort = the responder's port and
# resolve {"*": "127.0.0.1"}), fresh server per run, W = 1 and 8.
# A pebble run that wedges (spec §4) is repeated with GOMAXPROCS=1.
# Prints a table and the devid/pebble ratios against the targets; exits 0.
#
# Knobs (environment): WARM (2), DUR (10), WORKERS ("1 8"), TIMEOUT (10 s
# per request), KEEP=1 keeps the temp dir.  Every process is started and
# stopped by PID.
set -u

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WARM=${WARM:-2}
DUR=${DUR:-10}
WORKERS=${WORKERS:-"1 8"}
TIMEOUT=${TIMEOUT:-10}
CLIENT=$BUILD/bench_acme
DEVID=$BUILD/devid-ca

T=$(mktemp -d /tmp/devid-bacme.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $*" >&2; }

stop_pid() {
	local p=$1 i
	kill "$p" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	local keep=() q
	for q in "${PIDS[@]}"; do
		[ "$q" = "$p" ] || keep+=("$q")
	done
	PIDS=("${keep[@]}")
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_tls PORT: until a TLS handshake succeeds (20 s at most)
wait_tls() {
	local i
	for i in $(seq 1 200); do
		if openssl s_client -connect "127.0.0.1:$1" </dev/null \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

if [ ! -x "$CLIENT" ]; then
	echo "acme.sh: $CLIENT missing (cmake --build $BUILD)" >&2
	exit 1
fi
say "load average: $(cut -d' ' -f1-3 /proc/loadavg) (a busy machine skews every figure)"

RESULTS=$T/results.txt
: >"$RESULTS"
HPORT=$(free_port)	# the bench's http-01 responder, for both servers

# client LABEL PID DIR CAFILE W: one bench_acme run, bounded in time
client() {
	timeout $((WARM + DUR + 3 * TIMEOUT + 30)) "$CLIENT" --dir "$3" \
	    --cafile "$4" --http-port "$HPORT" -w "$5" --warm "$WARM" \
	    -d "$DUR" --pid "$2" --timeout "$TIMEOUT" --label "$1" \
	    2>>"$T/client.err" | tee -a "$RESULTS" |
	    sed 's/^RESULT /   /' >&2
	tail -3 "$T/client.err" | sed 's/^/   client: /' >&2
	: >"$T/client.err"
}

# ---- pebble ------------------------------------------------------------------
if command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null; then
	# TLS for pebble's listener (Debian ships no test/certs, interop §2.1)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/tlsca.key" -out "$T/tlsca.pem" -days 30 \
	    -subj "/CN=bench ACME TLS CA" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/pebble.key" -out "$T/pebble.csr" \
	    -subj "/CN=localhost" 2>/dev/null
	openssl x509 -req -in "$T/pebble.csr" -CA "$T/tlsca.pem" \
	    -CAkey "$T/tlsca.key" -CAcreateserial -days 30 \
	    -out "$T/pebble.pem" -extfile <(printf \
	    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth") \
	    2>/dev/null
	PPORT=$(free_port)
	PMPORT=$(free_port)
	DNSPORT=$(free_port)
	CTSMPORT=$(free_port)
	cat >"$T/pebble-config.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$PPORT",
  "managementListenAddress": "127.0.0.1:$PMPORT",
  "certificate": "$T/pebble.pem", "privateKey": "$T/pebble.key",
  "httpPort": $HPORT, "tlsPort": $(free_port), "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
	pebble-challtestsrv -dns01 "127.0.0.1:$DNSPORT" -http01 "" -https01 "" \
	    -tlsalpn01 "" -management "127.0.0.1:$CTSMPORT" \
	    -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$T/cts.log" 2>&1 &
	CTS_PID=$!
	PIDS+=("$CTS_PID")

	# run_pebble W GOMAXPROCS(or "") LABEL: one run on a fresh pebble
	run_pebble() {
		local gmp=() ppid
		[ -n "$2" ] && gmp=(GOMAXPROCS="$2")
		env "${gmp[@]}" PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
		    PEBBLE_AUTHZREUSE=0 pebble -config "$T/pebble-config.json" \
		    -dnsserver "127.0.0.1:$DNSPORT" -strict=false \
		    >"$T/pebble.log" 2>&1 &
		ppid=$!
		PIDS+=("$ppid")
		if ! wait_tls "$PPORT"; then
			say "pebble did not start:"
			tail -5 "$T/pebble.log" >&2
			stop_pid "$ppid"
			return 1
		fi
		say "pebble w=$1${2:+ GOMAXPROCS=$2} (warm-up ${WARM}s, ${DUR}s)"
		client "$3" "$ppid" "https://127.0.0.1:$PPORT/dir" \
		    "$T/tlsca.pem" "$1"
		stop_pid "$ppid"
	}
	for w in $WORKERS; do
		run_pebble "$w" "" pebble
		if tail -1 "$RESULTS" | grep -q 'label=pebble .*wedged=1'; then
			say "pebble wedged at w=$w: again with GOMAXPROCS=1 (spec §4)"
			sed -i '$ s/label=pebble /label=pebble-wedged /' "$RESULTS"
			run_pebble "$w" 1 pebble-gmp1
		fi
	done
	stop_pid "$CTS_PID"
else
	say "pebble / pebble-challtestsrv not installed (make deps): pebble runs skipped"
fi

# ---- devid -------------------------------------------------------------------
if [ -x "$DEVID" ]; then
	for w in $WORKERS; do
		rm -rf "$T/data"
		DPORT=$(free_port)
		if ! "$DEVID" init --data "$T/data" --listen "127.0.0.1:$DPORT" \
		    >"$T/devid-init.log" 2>&1; then
			say "devid-ca init failed"
			tail -5 "$T/devid-init.log" >&2
			break
		fi
		jq --argjson hp "$HPORT" '
		    .teams.default.authorities.agent.provisioners |= map(
		      if .type == "ACME" and .name == "acme" then
		        . + {"httpPort": $hp, "resolve": {"*": "127.0.0.1"}}
		      else . end)' "$T/data/config.json" >"$T/config.new" &&
		    mv "$T/config.new" "$T/data/config.json"
		"$DEVID" serve --data "$T/data" >"$T/devid.log" 2>&1 &
		DPID=$!
		PIDS+=("$DPID")
		if ! wait_tls "$DPORT"; then
			say "devid-ca did not start:"
			tail -5 "$T/devid.log" >&2
			stop_pid "$DPID"
			break
		fi
		say "devid w=$w (warm-up ${WARM}s, ${DUR}s)"
		client devid "$DPID" \
		    "https://127.0.0.1:$DPORT/t/default/agent/acme/acme/directory" \
		    "$T/data/certs/roots.pem" "$w"
		stop_pid "$DPID"
	done
else
	say "$DEVID not built: devid runs skipped"
fi

# ---- table -------------------------------------------------------------------
echo
python3 - "$RESULTS" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    w = line.split()
    if not w or w[0] != "RESULT":
        continue
    kv = dict(x.split("=", 1) for x in w[1:] if "=" in x)
    rows[(kv["label"], int(kv["w"]))] = kv

print("server        W  iss/s   p50 ms  p90 ms  p99 ms  srv CPU ms/iss  srv cores  client CPU ms  val/iss  req/iss  failed  wedged  other cores")
order = {"pebble": 0, "pebble-wedged": 1, "pebble-gmp1": 2, "devid": 3}
for (name, w) in sorted(rows, key=lambda k: (order.get(k[0], 9), k[1])):
    r = rows[(name, w)]
    print("%-12s %2d %7.1f %8.2f %7.2f %7.2f %15.3f %10.2f %13.3f %8.2f %8.2f %7s %7s %12s" % (
        name, w, float(r["ips"]), float(r["p50"]), float(r["p90"]),
        float(r["p99"]), float(r["srv_cpu_ms"]), float(r["srv_cores"]),
        float(r["cli_cpu_ms"]), float(r["val_per_iss"]),
        float(r["req_per_iss"]), r["failed"], r["wedged"], r["other_cores"]))
print("(client CPU includes the bench's http-01 responder; val/iss = http-01 fetches"
      " answered per issuance: > 0 means real validation; other cores = the rest of the machine)")
print()

def peb(w):
    for n in ("pebble", "pebble-gmp1"):
        r = rows.get((n, w))
        if r and r["wedged"] == "0" and float(r["ips"]) > 0:
            return n, r
    return None, None

for w in sorted({k[1] for k in rows}):
    d = rows.get(("devid", w))
    n, p = peb(w)
    if d and p:
        print("devid/%s W=%-2d  iss/s %.2fx   CPU/iss %.2fx   p99 %.2fx" % (
            n, w, float(d["ips"]) / float(p["ips"]),
            float(d["srv_cpu_ms"]) / float(p["srv_cpu_ms"]),
            float(d["p99"]) / float(p["p99"]) if float(p["p99"]) else 0))
print()
d = rows.get(("devid", 8))
n, p = peb(8)
def mark(ok):
    return "MET " if ok else "MISS"
if d and p:
    r = float(d["srv_cpu_ms"]) / float(p["srv_cpu_ms"])
    print("target server CPU/iss W=8 <= 1/4 of pebble : %s %.3f vs %.3f ms (%.2fx)" % (
        mark(r <= 0.25), float(d["srv_cpu_ms"]), float(p["srv_cpu_ms"]), r))
    r = float(d["ips"]) / float(p["ips"])
    print("target iss/s W=8 >= 2.5x pebble            : %s %.1f vs %.1f (%.2fx)" % (
        mark(r >= 2.5), float(d["ips"]), float(p["ips"]), r))
    if n != "pebble":
        print("(pebble wedged at its default GOMAXPROCS; compared with the GOMAXPROCS=1 run)")
else:
    print("targets: no complete devid and pebble pair at W=8")
EOF
exit 0
