# lib.sh - shared helpers of the end-to-end scenarios (one scenario per
# t_*.sh file, STYLE rule 29).  Source it from a scenario:
#
#	. "$(dirname "$0")/lib.sh"
#	ca_init; start_server
#	...checks with ok/fail/check...
#	finish
#
# Environment (set by CMake): DEVID_BIN = build directory (devid-ca, devid),
# DEVID_SRC = source directory.  DEVID_KEEP=1 keeps the temp dir.

set -u

: "${DEVID_BIN:?DEVID_BIN must name the build directory (holding devid-ca and devid)}"
: "${DEVID_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

DEVID="$DEVID_BIN/devid"
DEVID_CA="$DEVID_BIN/devid-ca"
T=$(mktemp -d "${TMPDIR:-/tmp}/devid-e2e.XXXXXX")
SCENARIO=$(basename "$0" .sh)
PASSES=0
FAILS=0
SERVER_PID=""
SERVER_STARTS=0

for tool in curl openssl jq python3; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "FATAL: $SCENARIO needs '$tool' in PATH"
		exit 1
	}
done
for b in "$DEVID_CA" "$DEVID"; do
	[ -x "$b" ] || {
		echo "FATAL: $b is not built (cmake --build BUILD --target $(basename "$b"))"
		exit 1
	}
done

ok() {
	PASSES=$((PASSES + 1))
	echo "ok - $*"
}

fail() {
	FAILS=$((FAILS + 1))
	echo "FAIL - $*"
}

# check DESCRIPTION COMMAND...: ok if COMMAND succeeds, else fail.
check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		fail "$desc"
	fi
}

# Stops the scenario at once (the EXIT trap still cleans up).
die() {
	FAILS=$((FAILS + 1))
	echo "FATAL - $*"
	exit 1
}

# Prints a free loopback TCP port.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Creates the data folder; sets PORT, HOSTPORT, CA (account base URL),
# ROOT (account root), ROOTS (roots.pem), INTER (account intermediate),
# PROV (admin provisioner file).
ca_init() {
	PORT=$(free_port)
	HOSTPORT="127.0.0.1:$PORT"
	"$DEVID_CA" init --data "$T/data" --listen "$HOSTPORT" \
	    >"$T/init.out" 2>"$T/init.err" ||
	    die "devid-ca init failed: $(cat "$T/init.err")"
	CA="https://$HOSTPORT/t/default/account"
	ROOT="$T/data/certs/account-root.crt"
	ROOTS="$T/data/certs/roots.pem"
	INTER="$T/data/certs/account-intermediate.crt"
	PROV="$T/data/admin/provisioner.json"
	for f in "$ROOT" "$ROOTS" "$INTER" "$PROV" "$T/data/config.json"; do
		[ -s "$f" ] || die "devid-ca init did not write $f"
	done
}

# True when /health answers 200 over verified TLS.
healthy() {
	curl -fsS --max-time 2 --cacert "$ROOTS" -o /dev/null \
	    "$CA/health" 2>/dev/null
}

# Starts `devid-ca serve` in the background and waits for /health.
start_server() {
	SERVER_STARTS=$((SERVER_STARTS + 1))
	"$DEVID_CA" serve --data "$T/data" \
	    >>"$T/server.$SERVER_STARTS.log" 2>&1 &
	SERVER_PID=$!
	local i
	for i in $(seq 1 150); do
		if healthy; then
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID"
			local st=$?
			SERVER_PID=""
			tail -20 "$T/server.$SERVER_STARTS.log"
			die "devid-ca serve exited with status $st before /health answered"
		fi
		sleep 0.1
	done
	die "GET $CA/health did not answer within 15 s"
}

# Stops the server by PID: SIGTERM, wait up to 10 s, then SIGKILL.
# Returns the server's exit status (0 for a clean shutdown).
stop_server() {
	local pid=$SERVER_PID st i
	[ -n "$pid" ] || return 0
	SERVER_PID=""
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# server $pid ignored SIGTERM for 10 s; SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	st=$?
	return "$st"
}

# Kills the server with SIGKILL (crash) and reaps it.
kill9_server() {
	local pid=$SERVER_PID
	[ -n "$pid" ] || return 0
	SERVER_PID=""
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# http METHOD URL OUTFILE [curl args...]: prints the status code (000 when
# there is no answer); the body goes to OUTFILE.
http() {
	local method=$1 url=$2 out=$3
	shift 3
	curl -sS --max-time 30 --cacert "$ROOTS" -X "$method" -o "$out" \
	    -w '%{http_code}' "$@" "$url" 2>>"$T/curl.err" || true
}

# is_problem FILE STATUS: the body is a problem document with step-ca's
# members too (docs/api.md "Errors").
is_problem() {
	jq -e --argjson st "$2" '
	    type == "object" and .status == $st and
	    (.message | type) == "string" and (.type | type) == "string" and
	    (.title | type) == "string" and (.detail | type) == "string"' \
	    "$1" >/dev/null 2>&1
}

# mint_token SUBJECT [devid token args...]: a sign token from the admin
# provisioner.
mint_token() {
	local sub=$1
	shift
	"$DEVID" token "$sub" --ca-url "$CA" --key "$PROV" "$@"
}

# issue NAME CRT KEY [args...]: a certificate with the CLI.
issue() {
	local name=$1 crt=$2 key=$3
	shift 3
	"$DEVID" certificate "$name" "$crt" "$key" --ca-url "$CA" \
	    --root "$ROOTS" --key "$PROV" "$@"
}

# The decimal serial of a PEM certificate file (first certificate).
serial_of() {
	local hex
	hex=$(openssl x509 -in "$1" -noout -serial 2>/dev/null) || return 1
	hex=${hex#serial=}
	python3 -c 'import sys; print(int(sys.argv[1], 16))' "$hex"
}

# The SANs of a PEM certificate, one per line, sorted.
sans_of() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
	    tail -n +2 | tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort
}

# First certificate of a PEM chain file into another file.
leaf_of() {
	openssl x509 -in "$1" -out "$2" 2>/dev/null
}

# Everything but the first certificate of a chain file.
rest_of() {
	awk 'BEGIN { n = 0 }
	    /-----BEGIN CERTIFICATE-----/ { n++ }
	    n > 1 { print }' "$1" >"$2"
}

# b64url_dec TEXT: decodes base64url without padding to stdout.
b64url_dec() {
	local s
	s=$(printf '%s' "$1" | tr '_-' '/+')
	while [ $((${#s} % 4)) -ne 0 ]; do
		s="$s="
	done
	printf '%s' "$s" | base64 -d
}

# status_of COMMAND...: prints the exit status of COMMAND (output dropped).
status_of() {
	"$@" >/dev/null 2>&1
	echo $?
}

finish() {
	echo "# $SCENARIO: $PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ] && [ "$PASSES" -gt 0 ]
	exit $?
}

on_exit() {
	local st=$?
	if [ -n "$SERVER_PID" ]; then
		if ! stop_server; then
			echo "FAIL - devid-ca serve did not exit cleanly on SIGTERM"
			st=1
		fi
	fi
	if [ "$st" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
		local f
		for f in "$T"/server.*.log; do
			[ -f "$f" ] || continue
			echo "# --- last lines of $f"
			tail -30 "$f" | sed 's/^/# /'
			# a sanitizer report: its first stacks say where
			if grep -q 'Sanitizer' "$f"; then
				echo "# --- first sanitizer stacks of $f"
				grep -A14 -E 'ERROR: (Address|Leak)Sanitizer|^Direct leak|runtime error' \
				    "$f" | head -80 | sed 's/^/# /'
			fi
		done
		echo "# files kept in $T"
	elif [ "${DEVID_KEEP:-0}" = 1 ]; then
		echo "# files kept in $T"
	else
		rm -rf "$T"
	fi
	exit "$st"
}
trap on_exit EXIT
