# t_maxconns.sh - maxConnections: beyond the limit a new connection is
# closed at its first TLS record; once connections close, new ones are
# served again (the count follows OpenSSL freeing each connection).
. "$(dirname "$0")/lib.sh"

ca_init
jq '.maxConnections = 5' "$T/data/config.json" >"$T/c.json" &&
    cp "$T/c.json" "$T/data/config.json" || die "cannot edit config"
start_server

# Hold 5 TLS connections open (handshake done) in the background.
python3 - "$PORT" "$ROOTS" "$T/held" <<'EOF_PY' &
import socket, ssl, sys, time, os
port, cafile, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
conns = []
for i in range(5):
    s = socket.create_connection(("127.0.0.1", port))
    conns.append(ctx.wrap_socket(s, server_hostname="127.0.0.1"))
open(flag, "w").write("5")
while os.path.exists(flag):
    time.sleep(0.1)
for c in conns:
    c.close()
EOF_PY
HOLDER=$!
for i in $(seq 1 50); do [ -f "$T/held" ] && break; sleep 0.1; done
check "5 connections are held open" test -f "$T/held"
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ROOTS" "$CA/health")
check "a 6th connection is refused (curl got '$st')" test "$st" = 000
check "... and the server logs it" grep -q too_many_connections \
    "$T/server.$SERVER_STARTS.log"
rm -f "$T/held"
wait "$HOLDER"
ok=0
for i in $(seq 1 30); do
	healthy && { ok=1; break; }
	sleep 0.2
done
check "once they close, new connections are served" test "$ok" = 1
check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
