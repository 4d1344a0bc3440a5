#!/bin/bash
# sign.sh BUILD_DIR - the sign benchmark (spec/performance.md §3, §6, §8):
# cfssl `serve` and devid-ca over HTTPS keep-alive on 127.0.0.1, the same
# P-256 CSR, bench_loadgen at c=1, 16 and 64, the idle-connection memory
# run for both, then bench_limit (in-process issuance through src/pki).
# Prints a table, the devid/cfssl ratios and the targets; exits 0.
#
# Knobs (environment): WARM (3), DUR (12), CONCS ("1 16 64"), IDLE (1000),
# LIMIT_SECS (5), RATE_HINT (6000/s) and RATE_HINT_C1 (2000/s) size the
# single-use devid tokens, KEEP=1 keeps the temp dir.  Every process is started and
# stopped by PID; nothing is installed here (make deps installs cfssl).
set -u

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
WARM=${WARM:-3}
DUR=${DUR:-12}
CONCS=${CONCS:-"1 16 64"}
IDLE=${IDLE:-1000}
LIMIT_SECS=${LIMIT_SECS:-5}
LOADGEN=$BUILD/bench_loadgen
LIMIT=$BUILD/bench_limit
DEVID=$BUILD/devid-ca

T=$(mktemp -d /tmp/devid-bench.XXXXXX)
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

for f in "$LOADGEN"; do
	if [ ! -x "$f" ]; then
		echo "sign.sh: $f missing (cmake --build $BUILD)" >&2
		exit 1
	fi
done
# idle-connection runs need descriptors on both sides
ulimit -n "$(ulimit -Hn)" 2>/dev/null

say "load average: $(cut -d' ' -f1-3 /proc/loadavg) (a busy machine skews every figure)"

# ---- material: P-256 CA, the CSR, cfssl's TLS certificate ------------------
CN=device-0001.example.test
SANS=device-0001.example.test,device-0001.local.example.test
openssl ecparam -name prime256v1 -genkey -noout -out "$T/ca.key" 2>/dev/null
openssl req -x509 -new -key "$T/ca.key" -subj "/CN=bench CA" -days 30 \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -out "$T/ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$T/leaf.key" 2>/dev/null
openssl req -new -key "$T/leaf.key" -subj "/CN=$CN" \
    -addext "subjectAltName=DNS:${SANS//,/,DNS:}" -out "$T/leaf.csr" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/tls.key" -subj "/CN=127.0.0.1" -days 30 \
    -addext subjectAltName=IP:127.0.0.1 -out "$T/tls.pem" 2>/dev/null
AUTHKEY=$(openssl rand -hex 16)
cat >"$T/cfssl.json" <<EOF
{"signing": {
  "default": {"expiry": "24h",
    "usages": ["digital signature", "server auth", "client auth"]},
  "profiles": {"tok": {"expiry": "24h",
    "usages": ["digital signature", "server auth", "client auth"],
    "auth_key": "k"}}},
 "auth_keys": {"k": {"type": "standard", "key": "$AUTHKEY"}}}
EOF

RESULTS=$T/results.txt
: >"$RESULTS"

# run_loads NAME PID URL EXTRA...: one loadgen run per concurrency
run_loads() {
	local name=$1 pid=$2 url=$3 c hint
	shift 3
	for c in $CONCS; do
		# tokens minted up front = hint x (warm-up + run) x 1.5; if
		# they run out the window closes early (flagged in the table)
		hint=${RATE_HINT:-6000}
		[ "$c" -le 1 ] && hint=${RATE_HINT_C1:-2000}
		say "$name c=$c (warm-up ${WARM}s, ${DUR}s)"
		"$LOADGEN" --url "$url" --csr "$T/leaf.csr" -c "$c" -w "$WARM" \
		    -d "$DUR" --rate-hint "$hint" --pid "$pid" \
		    --label "$name" "$@" | tee -a "$RESULTS"
	done
}

# ---- cfssl -----------------------------------------------------------------
if command -v cfssl >/dev/null; then
	CPORT=$(free_port)
	cfssl serve -address 127.0.0.1 -port "$CPORT" -ca "$T/ca.pem" \
	    -ca-key "$T/ca.key" -config "$T/cfssl.json" \
	    -tls-cert "$T/tls.pem" -tls-key "$T/tls.key" \
	    >"$T/cfssl.log" 2>&1 &
	CPID=$!
	PIDS+=("$CPID")
	if ! wait_tls "$CPORT"; then
		echo "sign.sh: cfssl did not start:" >&2
		tail -5 "$T/cfssl.log" >&2
	else
		# one certificate first, checked with openssl verify
		jq_csr=$(python3 -c 'import json,sys; print(json.dumps({"certificate_request": open(sys.argv[1]).read()}))' "$T/leaf.csr")
		curl -s --cacert "$T/tls.pem" -d "$jq_csr" \
		    "https://127.0.0.1:$CPORT/api/v1/cfssl/sign" |
		    python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["certificate"])' \
		    >"$T/cfssl-leaf.pem" 2>/dev/null
		if openssl verify -CAfile "$T/ca.pem" "$T/cfssl-leaf.pem" \
		    >/dev/null 2>&1; then
			say "cfssl: sample certificate verifies"
		else
			say "cfssl: sample certificate does NOT verify"
		fi
		run_loads cfssl "$CPID" \
		    "https://127.0.0.1:$CPORT/api/v1/cfssl/authsign" \
		    --mode cfssl --auth-key "$AUTHKEY" --profile tok \
		    --cafile "$T/tls.pem"
		stop_pid "$CPID"

		# idle memory on a fresh server
		cfssl serve -address 127.0.0.1 -port "$CPORT" -ca "$T/ca.pem" \
		    -ca-key "$T/ca.key" -config "$T/cfssl.json" \
		    -tls-cert "$T/tls.pem" -tls-key "$T/tls.key" \
		    >"$T/cfssl-idle.log" 2>&1 &
		CPID=$!
		PIDS+=("$CPID")
		if wait_tls "$CPORT"; then
			say "cfssl idle: $IDLE keep-alive TLS connections"
			"$LOADGEN" --url \
			    "https://127.0.0.1:$CPORT/api/v1/cfssl/authsign" \
			    --csr "$T/leaf.csr" --mode cfssl \
			    --auth-key "$AUTHKEY" --profile tok \
			    --cafile "$T/tls.pem" --idle "$IDLE" --pid "$CPID" \
			    --label cfssl | tee -a "$RESULTS"
		fi
		stop_pid "$CPID"
	fi
else
	say "cfssl not installed (make deps): cfssl runs skipped"
fi

# ---- devid -------------------------------------------------------------------
# serve_devid LOG: starts devid-ca on a fresh data folder, sets DPID
serve_devid() {
	"$DEVID" serve --data "$T/data" >"$1" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	wait_tls "$DPORT"
}

if [ -x "$DEVID" ]; then
	DPORT=$(free_port)
	DURL="https://127.0.0.1:$DPORT/t/default/account/1.0/sign"
	"$DEVID" init --data "$T/data" --listen "127.0.0.1:$DPORT" \
	    >"$T/devid-init.log" 2>&1 ||
	    { say "devid-ca init failed"; tail -5 "$T/devid-init.log" >&2; }
	DARGS=(--mode devid --admin "$T/data/admin/provisioner.json"
	    --sub "$CN" --sans "$SANS" --cafile "$T/data/certs/roots.pem")
	if [ -f "$T/data/config.json" ] && serve_devid "$T/devid.log"; then
		run_loads devid "$DPID" "$DURL" "${DARGS[@]}"
		stop_pid "$DPID"
		if serve_devid "$T/devid-idle.log"; then
			say "devid idle: $IDLE keep-alive TLS connections"
			"$LOADGEN" --url "$DURL" --csr "$T/leaf.csr" \
			    "${DARGS[@]}" --idle "$IDLE" --pid "$DPID" \
			    --label devid | tee -a "$RESULTS"
		fi
		stop_pid "$DPID"
	else
		say "devid-ca did not start:"
		tail -5 "$T/devid.log" >&2 2>/dev/null
	fi
else
	say "$DEVID not built: devid runs skipped"
fi

# ---- in-process limit ----------------------------------------------------------
if [ -x "$LIMIT" ]; then
	if [ -f "$T/data/certs/account-intermediate.crt" ]; then
		LARGS=(--ca-cert "$T/data/certs/account-intermediate.crt"
		    --ca-key "$T/data/keys/account-intermediate.key"
		    --pass-file "$T/data/secrets/password")
	else
		LARGS=(--ca-cert "$T/ca.pem" --ca-key "$T/ca.key")
	fi
	say "bench_limit (${LIMIT_SECS}s on 1 and 2 threads)"
	"$LIMIT" "${LARGS[@]}" --csr "$T/leaf.csr" -s "$LIMIT_SECS" \
	    --out "$T/limit-leaf.pem" | tee -a "$RESULTS"
	LCA=$T/ca.pem
	[ -f "$T/data/certs/account-root.crt" ] &&
	    LCA=$T/data/certs/account-root.crt
	if openssl verify -CAfile "$LCA" -untrusted "${LARGS[1]}" \
	    "$T/limit-leaf.pem" >/dev/null 2>&1; then
		say "bench_limit: sample certificate verifies"
	else
		say "bench_limit: sample certificate does NOT verify"
	fi
fi

# ---- table -------------------------------------------------------------------
echo
python3 - "$RESULTS" <<'EOF'
import sys
rows, idle, rel, lim, limt = {}, {}, {}, {}, {}
for line in open(sys.argv[1]):
    w = line.split()
    if not w:
        continue
    kv = dict(x.split("=", 1) for x in w[1:] if "=" in x)
    if w[0] == "RESULT":
        rows[(kv["label"], int(kv["c"]))] = kv
    elif w[0] == "IDLE":
        idle[kv["label"]] = kv
    elif w[0] == "IDLE_RELEASED":
        rel[kv["label"]] = kv
    elif w[0] == "LIMIT":
        lim[int(kv["threads"])] = kv
    elif w[0] == "LIMIT+TOKEN":
        limt[int(kv["threads"])] = kv

print("server  c   certs/s    p50 ms  p90 ms  p99 ms  srv CPU ms/cert  srv cores  client CPU ms  RSS/HWM MiB   non2xx errors  other cores")
for (name, c) in sorted(rows, key=lambda k: (k[0] != "cfssl", k[1])):
    r = rows[(name, c)]
    print("%-6s %3d %9.1f %8.2f %7.2f %7.2f %16.4f %10.2f %14.4f %6.1f/%-6.1f %7s %6s %12s%s" % (
        name, c, float(r["rps"]), float(r["p50"]), float(r["p90"]),
        float(r["p99"]), float(r["srv_cpu_ms"]), float(r["srv_cores"]),
        float(r["cli_cpu_ms"]), int(r["rss_kib"]) / 1024,
        int(r["hwm_kib"]) / 1024, r["non2xx"], r["errors"],
        r.get("other_cores", "?"), "  TOKENS EXHAUSTED" if r.get("exhausted") == "1" else ""))
print()
for name in ("cfssl", "devid"):
    if name in idle:
        i = idle[name]
        print("idle %-6s %s keep-alive TLS conns (%s still open): RSS %.1f -> %.1f MiB = %.2f KiB/conn" % (
            name, i["conns"], i["idle"], int(i["rss_before_kib"]) / 1024,
            int(i["rss_after_kib"]) / 1024, float(i["kib_per_conn"])))
    if name in rel:
        i = rel[name]
        print("     %-6s closing them: RSS -> %.1f MiB = %.2f KiB/conn given back (the connections' own memory)" % (
            name, int(i["rss_closed_kib"]) / 1024,
            float(i["kib_per_conn_released"])))
for t in sorted(lim):
    l = lim[t]
    print("limit  %d thread(s): %.0f certs/s, %.1f us/cert (wall per thread)" % (
        t, float(l["certs_per_s"]), float(l["us_per_cert"])))
for t in sorted(limt):
    l = limt[t]
    print("limit + token verify %d thread(s): %.0f certs/s, %.1f us CPU/cert"
          " (the crypto and PKI work of /1.0/sign alone, no TLS/HTTP/JSON/store)" % (
        t, float(l["certs_per_s"]), float(l["cpu_us_per_cert"])))
print("(other cores: CPU used by the rest of the machine during the window;"
      " above ~0.1 the run is disturbed)")
print()
concs = sorted({c for (_, c) in rows})
for c in concs:
    a, b = rows.get(("devid", c)), rows.get(("cfssl", c))
    if a and b:
        def ratio(k):
            x, y = float(a[k]), float(b[k])
            return x / y if y else float("inf")
        print("devid/cfssl c=%-3d certs/s %.2fx   p99 %.2fx   CPU/cert %.2fx" % (
            c, ratio("rps"), ratio("p99"), ratio("srv_cpu_ms")))
a, b = rows.get(("devid", 64)), rows.get(("cfssl", 64))
if a:
    print()
    def mark(ok):
        return "MET " if ok else "MISS"
    if b:
        r = float(a["rps"]) / float(b["rps"])
        print("target certs/s c=64 >= 1.3x cfssl : %s %.2fx" % (mark(r >= 1.3), r))
    print("target p99 c=64 <= 20 ms          : %s %.2f ms" % (mark(float(a["p99"]) <= 20), float(a["p99"])))
    print("target CPU <= 0.25 ms/cert (c=64) : %s %.4f ms" % (mark(float(a["srv_cpu_ms"]) <= 0.25), float(a["srv_cpu_ms"])))
    if 1 in limt:
        f = float(limt[1]["cpu_us_per_cert"]) / 1000
        print("  of which the in-process floor (token verify + CSR verify + build + sign, 1 thread): %.4f ms;"
              " the rest (TLS, HTTP, JSON, claims, durable store, audit, signer process): %.4f ms" % (
            f, float(a["srv_cpu_ms"]) - f))
    if "devid" in rel:
        # what closing the idle connections gives back: the RSS growth
        # while they were open also holds the store's page cache grown by
        # the n certificates they asked for, which stays after they close
        k = float(rel["devid"]["kib_per_conn_released"])
        g = float(idle["devid"]["kib_per_conn"])
        print("target <= 20 KiB/idle TLS conn    : %s %.2f KiB given back on close (RSS growth while open: %.2f KiB, incl. store cache)" % (mark(k <= 20), k, g))
EOF
exit 0
