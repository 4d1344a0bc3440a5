#!/bin/bash
# acme_count.sh BUILD_DIR [callgrind|strace|perf|ctx] - what devid-ca serve
# (signer child included) spends per ACME issuance on a fixed load: the
# bench_acme client (bench/acme.sh's set-up) runs W workers x N issuances
# (--count) against a fresh server, counted from after one warm-up
# issuance (start-up and first-use set-up are not counted; the W
# newAccount requests are):
#   callgrind  instructions (the server runs under callgrind)
#   strace     system calls by name (strace -c -f attached)
#   perf       cpu-clock samples by library, kernel included (attached;
#              no hardware counters in this VM)
#   ctx        no tool: context switches and CPU ticks from /proc
# Instruction and system call counts do not depend on the machine's load,
# unlike bench/acme.sh's CPU times; requests per issuance are printed too
# (polls vary with validation latency).
#
# Knobs (environment): W (2), N (15 per worker), POLL_MS (5), KEEP=1,
# DEVID (another build's devid-ca, driven by this build's bench_acme).
set -u

BUILD=${1:-build}
MODE=${2:-callgrind}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
W=${W:-2}
N=${N:-15}
POLL_MS=${POLL_MS:-5}
DEVID=${DEVID:-$BUILD/devid-ca}
CLIENT=$BUILD/bench_acme
T=$(mktemp -d /tmp/devid-acount.XXXXXX)
SPID=

cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ctx_ticks PID: "context-switches cpu-ticks" of every thread of PID and
# of its children
ctx_ticks() {
	local p t cs=0 tk=0 v n
	for p in $1 $(cat /proc/"$1"/task/*/children); do
		for t in /proc/"$p"/task/*; do
			v=$(awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ {s += $2} END {print s}' "$t/status")
			n=$(awk '{print $14 + $15}' "$t/stat")
			cs=$((cs + v))
			tk=$((tk + n))
		done
	done
	echo "$cs $tk"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

HPORT=$(free_port)
DPORT=$(free_port)
"$DEVID" init --data "$T/data" --listen "127.0.0.1:$DPORT" >"$T/init.log" 2>&1 ||
    { echo "init failed" >&2; exit 1; }
jq --argjson hp "$HPORT" '
    .teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" and .name == "acme" then
        . + {"httpPort": $hp, "resolve": {"*": "127.0.0.1"}}
      else . end)' "$T/data/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$T/data/config.json"

case $MODE in
callgrind)
	valgrind --tool=callgrind --trace-children=yes \
	    --callgrind-out-file="$T/cg.%p" "$DEVID" serve --data "$T/data" \
	    >"$T/serve.log" 2>&1 &
	;;
strace|perf|ctx)
	"$DEVID" serve --data "$T/data" >"$T/serve.log" 2>&1 &
	;;
*)	echo "mode: callgrind, strace, perf or ctx" >&2; exit 2 ;;
esac
SPID=$!
for i in $(seq 1 600); do
	openssl s_client -connect "127.0.0.1:$DPORT" </dev/null >/dev/null 2>&1 &&
	    break
	sleep 0.2
done
# a warm-up issuance first: one-time set-up (first-use initialisation,
# caches) is not counted
"$CLIENT" --dir "https://127.0.0.1:$DPORT/t/default/agent/acme/acme/directory" \
    --cafile "$T/data/certs/roots.pem" --http-port "$HPORT" -w 1 \
    --warm 0 -d 100000 --count 1 --timeout 120 --label warm \
    >/dev/null 2>&1
if [ "$MODE" = callgrind ]; then
	# zero the server and its signer child (by PID)
	callgrind_control -z "$SPID" >/dev/null 2>&1
	for c in $(cat /proc/"$SPID"/task/*/children); do
		callgrind_control -z "$c" >/dev/null 2>&1
	done
elif [ "$MODE" = ctx ]; then
	CTX0=$(ctx_ticks "$SPID")
elif [ "$MODE" = perf ]; then
	# cpu-clock samples (no hardware counters in this VM), kernel too
	perf record -q -e cpu-clock -F 2000 -g -o "$T/perf.data" \
	    -p "$SPID,$(cat /proc/"$SPID"/task/*/children | tr ' ' ',' | sed 's/,$//')" \
	    2>"$T/perf.err" &
	STRACE_PID=$!
	sleep 1
else
	# every thread of the server and of its signer child, from now on
	STPIDS=()
	for c in $SPID $(cat /proc/"$SPID"/task/*/children); do
		STPIDS+=(-p "$c")
	done
	strace ${STRACE_OPTS:--c} -f -o "$T/strace.txt" "${STPIDS[@]}" \
	    2>"$T/strace.err" &
	STRACE_PID=$!
	sleep 1
fi
"$CLIENT" --dir "https://127.0.0.1:$DPORT/t/default/agent/acme/acme/directory" \
    --cafile "$T/data/certs/roots.pem" --http-port "$HPORT" -w "$W" \
    --warm 0 -d 100000 --count "$N" --poll-ms "$POLL_MS" --timeout 120 \
    --label count 2>"$T/client.err" >"$T/client.out"
cat "$T/client.out" "$T/client.err" >&2
[ "$MODE" = ctx ] && CTX1=$(ctx_ticks "$SPID")
if [ "$MODE" = strace ] || [ "$MODE" = perf ]; then
	kill -INT "$STRACE_PID"
	wait "$STRACE_PID" 2>/dev/null
fi
kill "$SPID"
wait "$SPID" 2>/dev/null
SPID=
ISS=$((W * N))
REQ=$(sed -n 's/.*req_per_iss=\([0-9.]*\).*/\1/p' "$T/client.out")
case $MODE in
callgrind)
	TOT=0
	for f in "$T"/cg.*; do
		ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p;s/^totals: *\([0-9]*\).*/\1/p' "$f" | tail -1)
		TOT=$((TOT + ${ir:-0}))
	done
	python3 -c "import sys; t,i,r=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3] or 0); print('issuances=%d req_per_iss=%.2f Ir_total=%d Ir_per_iss=%.0f (%.2f M) Ir_per_req=%.0f' % (i, r, t, t/i, t/i/1e6, t/i/r if r else 0))" "$TOT" "$ISS" "$REQ"
	[ "${KEEP:-0}" = 1 ] && ls "$T"/cg.*
	;;
strace)
	python3 - "$T/strace.txt" "$ISS" "$REQ" <<'PY'
import sys
iss = int(sys.argv[2])
tot = 0
rows = []
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) >= 5 and w[0][0].isdigit() and w[-1] != "total":
        calls = int(w[3])
        rows.append((calls, w[-1]))
    if w and w[-1] == "total":
        tot = int(w[2]) if len(w) >= 4 else 0
rows.sort(reverse=True)
print("issuances=%d req_per_iss=%s syscalls_per_iss=%.1f" % (iss, sys.argv[3], sum(c for c, _ in rows) / iss))
for c, n in rows[:15]:
    print("  %-20s %8.1f" % (n, c / iss))
PY
	;;
ctx)
	python3 -c "import sys,os; a=sys.argv[1].split(); b=sys.argv[2].split(); i=int(sys.argv[3]); t=os.sysconf('SC_CLK_TCK'); print('issuances=%d req_per_iss=%s ctxsw_per_iss=%.1f cpu_ms_per_iss=%.3f (threads that ended are not counted)' % (i, sys.argv[4], (int(b[0])-int(a[0]))/i, (int(b[1])-int(a[1]))*1000.0/t/i))" "$CTX0" "$CTX1" "$ISS" "$REQ"
	;;
perf)
	echo "issuances=$ISS req_per_iss=$REQ (perf.data: KEEP=1)"
	perf report -i "$T/perf.data" --no-children --sort dso -q -g none \
	    2>/dev/null | head -15
	;;
esac
