# t_acme_uacme.sh - uacme (hook-based client) gets a certificate from the
# Agent CA's ACME server: its hook writes the challenge file that a
# python3 http.server serves on the http-01 port (spec interop.md §2.4).
# uacme trusts only /etc/ssl/certs: a private mount namespace puts our
# roots there for uacme alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.sh"

command -v uacme >/dev/null 2>&1 || die "uacme is not installed (make deps)"
command -v unshare >/dev/null 2>&1 || die "uacme needs unshare (util-linux)"
acme_setup
mkdir -p "$T/cadir" "$T/webroot/.well-known/acme-challenge"
cp "$ROOTS" "$T/cadir/devid-roots.pem"
python3 -m http.server "$HTTP01_PORT" --bind 127.0.0.1 \
    --directory "$T/webroot" >"$T/web.log" 2>&1 &
WEB_PID=$!
trap 'kill $WEB_PID 2>/dev/null; on_exit' EXIT
for i in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP01_PORT/" && break
	sleep 0.1
done
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
# \$1 begin|done|failed, \$2 type, \$3 ident, \$4 token, \$5 key authorization
W="$T/webroot/.well-known/acme-challenge"
[ "\$2" = "http-01" ] || exit 1
case "\$1" in
begin) printf '%s' "\$5" >"\$W/\$4" ;;
done|failed) rm -f "\$W/\$4" ;;
esac
HOOK
chmod +x "$T/hook.sh"
uacme_ns() {
	unshare -m sh -c "mount --bind '$T/cadir' /etc/ssl/certs &&
	    exec uacme -v -o -a '$DIR' -c '$T/uacme.d' $*"
}
check "uacme new (account)" \
    timeout 120 sh -c "$(declare -f uacme_ns); T='$T' DIR='$DIR'; uacme_ns -y new ops@example.org" 
check "uacme issue (http-01 through the hook)" \
    timeout 180 sh -c "$(declare -f uacme_ns); T='$T' DIR='$DIR'; uacme_ns -t EC -h '$T/hook.sh' issue uacme.test"
C="$T/uacme.d/uacme.test/cert.pem"
check "uacme saved the certificate" test -s "$C"
csplit -s -z -f "$T/uc" "$C" '/BEGIN CERT/' '{*}'
check "the chain verifies to the Agent CA root" \
    verify_chain "$T/uc00" "$T/uc01"
check "uacme revoke" \
    timeout 120 sh -c "$(declare -f uacme_ns); T='$T' DIR='$DIR'; uacme_ns revoke '$C'"
finish
