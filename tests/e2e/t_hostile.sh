# t_hostile.sh - hostile requests get the documented 4xx problem documents
# (or a closed connection), never a crash: oversized, truncated, duplicate
# keys, non-UTF-8, deep nesting, bad PEM, too many SANs, slow loris.  The
# server still answers /health afterwards.
. "$(dirname "$0")/lib.sh"

ca_init
start_server

SIGN="$CA/1.0/sign"
# post NAME FILE: POSTs FILE to /1.0/sign; prints the status.
post() {
	http POST "$SIGN" "$T/$1.resp" -H 'Content-Type: application/json' \
	    --data-binary @"$2"
}
# expect NAME STATUS DESCRIPTION FILE
expect() {
	local name=$1 want=$2 desc=$3 file=$4 st
	st=$(post "$name" "$file")
	check "$desc answers $want (got $st)" test "$st" = "$want"
	check "... with a problem document" is_problem "$T/$name.resp" "$want"
}

# A valid CSR and token to wrap hostile variations around.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/k.pem" -subj /CN=h.example.com \
    -addext subjectAltName=DNS:h.example.com -out "$T/ok.csr" 2>/dev/null ||
    die "openssl req failed"

# 1. Oversized body (> 64 KiB).
python3 -c 'import json, sys
print(json.dumps({"csr": "A" * (70 * 1024), "ott": "x"}))' >"$T/big.json"
expect big 413 "a 70 KiB body" "$T/big.json"

# 2. Truncated JSON.
printf '{"csr": "-----BEGIN CERT' >"$T/trunc.json"
expect trunc 400 "truncated JSON" "$T/trunc.json"

# 3. Duplicate keys.
jq -n --rawfile csr "$T/ok.csr" --arg ott "$(mint_token h.example.com)" \
    '{csr: $csr, ott: $ott}' | sed 's/^{/{"ott":"x",/' >"$T/dup.json"
check "(the duplicate-key body really has ott twice)" \
    test "$(grep -o '"ott"' "$T/dup.json" | wc -l)" = 2
expect dup 400 "duplicate keys" "$T/dup.json"

# 4. Not UTF-8.
printf '{"csr":"\xff\xfe\xfd","ott":"\xc3\x28"}' >"$T/utf8.json"
expect utf8 400 "a non-UTF-8 body" "$T/utf8.json"

# 5. Deep nesting.
python3 -c 'print("{\"csr\":" + "[" * 200 + "]" * 200 + ",\"ott\":\"x\"}")' \
    >"$T/deep.json"
expect deep 400 "JSON nested 200 deep" "$T/deep.json"

# 6. Bad PEM (with a good token, so only the CSR is wrong).
jq -n --arg ott "$(mint_token h.example.com)" '{ott: $ott, csr:
    "-----BEGIN CERTIFICATE REQUEST-----\nnot*base64!\n-----END CERTIFICATE REQUEST-----\n"}' \
    >"$T/pem.json"
expect pem 400 "a CSR that is not PEM" "$T/pem.json"
# A well-formed CSR whose signature is broken (last byte of the DER flipped).
openssl req -in "$T/ok.csr" -outform DER -out "$T/ok.der"
python3 - "$T/ok.der" "$T/badsig.csr" <<'PY'
import base64, sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-1] ^= 1
b = base64.encodebytes(bytes(d)).decode()
open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE REQUEST-----\n" + b +
    "-----END CERTIFICATE REQUEST-----\n")
PY
jq -n --rawfile csr "$T/badsig.csr" --arg ott "$(mint_token h.example.com)" \
    '{csr: $csr, ott: $ott}' >"$T/badsig.json"
expect badsig 400 "a CSR with a broken signature" "$T/badsig.json"

# 7. Too many SANs: 10 000 (over the body limit) and 101 (over DV_MAX_SANS).
many_sans() {	# N OUTCSR
	python3 - "$1" "$T/san.cnf" <<'PY'
import sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("[req]\ndistinguished_name=dn\nreq_extensions=ext\nprompt=no\n"
            "[dn]\nCN=h.example.com\n[ext]\nsubjectAltName=@alt\n[alt]\n")
    for i in range(n):
        f.write("DNS.%d=h%d.example.com\n" % (i + 1, i))
PY
	openssl req -new -key "$T/k.pem" -config "$T/san.cnf" -out "$2" 2>/dev/null
}
many_sans 10000 "$T/sans10k.csr" || die "cannot make the 10 000-SAN CSR"
jq -n --rawfile csr "$T/sans10k.csr" --arg ott "$(mint_token h.example.com)" \
    '{csr: $csr, ott: $ott}' >"$T/sans10k.json"
st=$(post sans10k "$T/sans10k.json")
check "a CSR with 10 000 SANs answers 4xx (got $st)" \
    test "${st:0:1}" = 4
many_sans 101 "$T/sans101.csr" || die "cannot make the 101-SAN CSR"
jq -n --rawfile csr "$T/sans101.csr" --arg ott "$(mint_token h.example.com)" \
    '{csr: $csr, ott: $ott}' >"$T/sans101.json"
st=$(post sans101 "$T/sans101.json")
check "a CSR with 101 SANs (limit 100) answers 4xx (got $st)" \
    test "${st:0:1}" = 4
check "... with a problem document" is_problem "$T/sans101.resp" "$st"

# 8. Protocol abuse.
jq -n --rawfile csr "$T/ok.csr" --arg ott "$(mint_token h.example.com)" \
    '{csr: $csr, ott: $ott, evil: true}' >"$T/extra.json"
expect extra 400 "an unknown member" "$T/extra.json"
printf '[1,2,3]' >"$T/array.json"
expect array 400 "a JSON array body" "$T/array.json"
st=$(http PUT "$SIGN" "$T/put.resp" --data-binary '{}')
check "PUT /1.0/sign answers 405 (got $st)" test "$st" = 405
check "... with a problem document" is_problem "$T/put.resp" 405
st=$(http GET "$CA/no/such/route" "$T/404.resp")
check "an unknown route answers 404 (got $st)" test "$st" = 404
check "... with a problem document" is_problem "$T/404.resp" 404
st=$(http GET "https://$HOSTPORT/t/nope/account/roots" "$T/team.resp")
check "an unknown team answers 404 (got $st)" test "$st" = 404
st=$(http GET "$CA/roots" "$T/hdr.resp" -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")
check "a 20 KB header is refused (4xx or closed; got $st)" \
    bash -c "[ '${st:0:1}' = 4 ] || [ '$st' = 000 ]"

# Raw request over TLS; prints the status line's code (or "closed").
raw() {
	python3 - "$HOSTPORT" "$ROOTS" "$1" <<'PY'
import socket, ssl, sys
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=15),
                    server_hostname=host)
s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except (socket.timeout, ConnectionError, ssl.SSLError):
    pass
line = data.split(b"\r\n", 1)[0].split()
print(line[1].decode() if len(line) > 1 else "closed")
PY
}
# RFC 9112 §6.3: Content-Length with Transfer-Encoding "ought to be handled
# as an error" (request smuggling).
st=$(raw 'POST /t/default/account/1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
check "Content-Length together with Transfer-Encoding is refused with 400 (got $st)" \
    test "$st" = 400
st=$(raw 'POST /t/default/account/1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n')
check "a negative Content-Length is refused with 400 (got $st)" test "$st" = 400
st=$(raw 'POST /t/default/account/1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999\r\n\r\n')
check "an absurd Content-Length is refused with 4xx (got $st)" \
    test "${st:0:1}" = 4

# 9. Slow loris: part of a request over TLS, then silence or one byte every
#    2 s.  The server must close the connection after its read timeout
#    (DV_TIMEOUT_READ, 10 s for the whole request), well before 30 s.
slow() {	# BYTES DRIP -> prints seconds until the server hung up
	(
		trap '' PIPE
		rm -f "$T/fifo"
		mkfifo "$T/fifo"
		openssl s_client -quiet -connect "$HOSTPORT" -CAfile "$ROOTS" \
		    <"$T/fifo" >"$T/slow.out" 2>&1 &
		cpid=$!
		exec 7>"$T/fifo"
		start=$(date +%s)
		printf '%b' "$1" >&7 2>/dev/null
		for i in $(seq 1 30); do
			kill -0 "$cpid" 2>/dev/null || break
			sleep 1
			if [ "$2" = drip ] && [ $((i % 2)) = 0 ]; then
				printf 'X' >&7 2>/dev/null
			fi
		done
		end=$(date +%s)
		exec 7>&-
		kill "$cpid" 2>/dev/null
		wait "$cpid" 2>/dev/null
		echo $((end - start))
	)
}
HALF='POST /t/default/account/1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: '
secs=$(slow "$HALF" quiet)
check "half a header, then silence: the server hangs up (${secs}s)" \
    test "$secs" -lt 20
secs=$(slow "$HALF" drip)
check "half a header, one byte per 2 s: the server hangs up (${secs}s)" \
    test "$secs" -lt 20
secs=$(slow 'POST /t/default/account/1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"csr":' drip)
check "half a body, one byte per 2 s: the server hangs up (${secs}s)" \
    test "$secs" -lt 20

# 10. Still alive and serving.
check "the server process is still running" kill -0 "$SERVER_PID"
check "/health still answers" healthy
check "and still issues certificates" issue after.example.com \
    "$T/after.crt" "$T/after.key"

check "devid-ca serve shuts down cleanly on SIGTERM" stop_server
finish
