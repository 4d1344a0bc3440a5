# t_crash.sh - durability: clients issue certificates in parallel loops, the
# server is killed with SIGKILL in the middle, restarted, and every
# certificate a client received (written to a file) must be in the store
# with the same DER; the database passes PRAGMA integrity_check.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null 2>&1 || die "this scenario needs sqlite3"

ca_init
start_server

WORKERS=4
MIN_BEFORE_KILL=24
DB="$T/data/devid.db"
mkdir -p "$T/certs"

# One client loop: issue until $T/stop exists (at most 500 certificates).
client_loop() {
	local w=$1 i=0
	while [ ! -e "$T/stop" ] && [ "$i" -lt 500 ]; do
		i=$((i + 1))
		"$DEVID" certificate "crash-$w-$i.example.com" \
		    "$T/certs/$w-$i.crt" "$T/certs/$w-$i.key" --ca-url "$CA" \
		    --root "$ROOTS" --key "$PROV" >/dev/null 2>>"$T/client.$w.err"
	done
}

# crash_round N: client loops, SIGKILL after N more certificates, restart.
crash_round() {
	local want=$1 pids="" w n i
	rm -f "$T/stop"
	for w in $(seq 1 $WORKERS); do
		client_loop "r$ROUND-$w" &
		pids="$pids $!"
	done
	for i in $(seq 1 600); do
		n=$(find "$T/certs" -name '*.crt' | wc -l)
		[ "$n" -ge "$want" ] && break
		sleep 0.1
	done
	kill9_server
	touch "$T/stop"
	# shellcheck disable=SC2086
	wait $pids
	[ "$n" -ge "$want" ] ||
	    die "round $ROUND: only $n certificates in 60 s before the crash"
	start_server
}

for ROUND in 1 2 3; do
	crash_round $((ROUND * MIN_BEFORE_KILL))
done
got=$(find "$T/certs" -name '*.crt' | wc -l)
echo "# $got certificates received over 3 rounds of SIGKILL + restart"
check "some requests failed at the kills (the crashes were mid-stream)" \
    grep -q . "$T"/client.*.err

missing=0
mismatch=0
checked=0
for crt in "$T"/certs/*.crt; do
	leaf_of "$crt" "$T/leaf.pem" || { mismatch=$((mismatch + 1)); continue; }
	s=$(serial_of "$T/leaf.pem")
	case "$s" in
	*[!0-9]* | "") mismatch=$((mismatch + 1)); continue ;;
	esac
	c=$(sqlite3 "$DB" "select count(*) from certificates where serial='$s'")
	if [ "$c" != 1 ]; then
		echo "# $crt (serial $s) is not in the store"
		missing=$((missing + 1))
		continue
	fi
	d=$(sqlite3 "$DB" "select lower(hex(der)) from certificates where serial='$s'")
	if [ "$d" != "$(openssl x509 -in "$T/leaf.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')" ]; then
		echo "# $crt (serial $s): stored DER differs"
		mismatch=$((mismatch + 1))
	fi
	checked=$((checked + 1))
done
check "every one of the $got received certificates is in the store ($missing missing)" \
    test "$missing" = 0 -a "$checked" = "$got"
check "the stored DER is the certificate the client got ($mismatch differ)" \
    test "$mismatch" = 0
ic=$(sqlite3 "$DB" 'PRAGMA integrity_check')
check "PRAGMA integrity_check says ok (got '$ic')" test "$ic" = ok
fk=$(sqlite3 "$DB" 'PRAGMA foreign_key_check' | wc -l)
check "PRAGMA foreign_key_check finds nothing" test "$fk" = 0
stored=$(sqlite3 "$DB" 'select count(*) from certificates')
check "the store holds at least the received certificates ($stored >= $got)" \
    test "$stored" -ge "$got"

# A token used just before a crash stays used after it.
tok=$(mint_token replay.example.com) || die "devid token failed"
check "issue with a token" "$DEVID" certificate replay.example.com \
    "$T/replay.crt" "$T/replay.key" --ca-url "$CA" --root "$ROOTS" --token "$tok"
kill9_server
start_server
check "the same token is refused after SIGKILL + restart" test "$(status_of \
    "$DEVID" certificate replay.example.com "$T/replay2.crt" "$T/replay2.key" \
    --ca-url "$CA" --root "$ROOTS" --token "$tok")" = 1
c=$(sqlite3 "$DB" "select count(*) from certificates where serial='$(serial_of "$T/replay.crt")'")
check "the certificate issued just before the crash is stored" test "$c" = 1

# After the restart the server works, and serials stay unique.
check "a certificate after the restart" issue after.example.com \
    "$T/after.crt" "$T/after.key"
check "revoking a certificate issued before the crash" "$DEVID" revoke \
    "$(serial_of "$(ls "$T"/certs/*.crt | head -1)")" --ca-url "$CA" \
    --root "$ROOTS" --key "$PROV"
check "audit chain table is readable" sqlite3 "$DB" 'select count(*) from audit'

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
