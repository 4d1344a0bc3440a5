# t_acme_lego_dns.sh - lego gets a certificate over dns-01 (RFC 8555
# §8.4) from the Agent CA's ACME server, with pebble-challtestsrv as the
# DNS server on loopback: lego's exec provider sets the TXT record through
# challtestsrv's management API and the server's validator asks
# challtestsrv ("dnsResolver").  A wildcard with its base name is issued
# the same way.  Then a wrong TXT value makes the order invalid with
# incorrectResponse.
. "$(dirname "$0")/lib.sh"

command -v lego >/dev/null 2>&1 || die "lego is not installed (make deps)"
command -v pebble-challtestsrv >/dev/null 2>&1 ||
    die "pebble-challtestsrv is not installed (make deps: pebble)"
ca_init
DNS_PORT=$(free_port)
MGMT_PORT=$(free_port)
pebble-challtestsrv -dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" \
    -tlsalpn01 "" -management "127.0.0.1:$MGMT_PORT" \
    -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$T/challtestsrv.log" 2>&1 &
CTS_PID=$!
trap 'st=$?; kill "$CTS_PID" 2>/dev/null; (exit $st); on_exit' EXIT
jq --arg r "127.0.0.1:$DNS_PORT" '
    .teams.default.authorities.agent.provisioners |= map(
      if .type == "ACME" and .name == "acme" then
        . + {"challenges": ["dns-01"], "dnsResolver": $r}
      else . end)' "$T/data/config.json" >"$T/config.new" &&
    mv "$T/config.new" "$T/data/config.json" ||
    die "cannot configure the ACME provisioner"
start_server
DIR="https://$HOSTPORT/t/default/agent/acme/acme/directory"
AGENT_ROOT="$T/data/certs/agent-root.crt"
for i in $(seq 1 50); do
	curl -fsS -o /dev/null -X POST -d '{}' \
	    "http://127.0.0.1:$MGMT_PORT/clear-txt" 2>/dev/null && break
	sleep 0.1
done

# lego's exec provider: $1 present|cleanup, $2 the FQDN, $3 the value
cat >"$T/dns-hook.sh" <<HOOK
#!/bin/sh
v="\$3"
[ -n "\$WRONG_TXT" ] && v="not-the-digest"
case "\$1" in
present) body=\$(jq -cn --arg h "\$2" --arg v "\$v" '{host: \$h, value: \$v}')
	curl -fsS -X POST -d "\$body" "http://127.0.0.1:$MGMT_PORT/set-txt" ;;
cleanup) body=\$(jq -cn --arg h "\$2" '{host: \$h}')
	curl -fsS -X POST -d "\$body" "http://127.0.0.1:$MGMT_PORT/clear-txt" ;;
esac
HOOK
chmod +x "$T/dns-hook.sh"

export LEGO_CA_CERTIFICATES="$ROOTS" EXEC_PATH="$T/dns-hook.sh"
export EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30
L="lego --server $DIR --accept-tos --email ops@example.org --path $T/lego"
# challtestsrv answers no SOA queries, which lego's propagation check needs
# to find the zone: the check is off (--dns.disable-cp); the server's own
# validator asks challtestsrv (dnsResolver)
D="--dns exec --dns.resolvers 127.0.0.1:$DNS_PORT --dns.disable-cp"

check "lego run: dns-01, certificate issued" \
    timeout 120 $L --key-type ec256 --domains dns.lego.test $D run
C="$T/lego/certificates"
check "the chain verifies to the Agent CA root" \
    openssl verify -CAfile "$AGENT_ROOT" -untrusted \
    "$C/dns.lego.test.issuer.crt" "$C/dns.lego.test.crt"
check "the certificate names dns.lego.test" \
    sh -c "openssl x509 -in '$C/dns.lego.test.crt' -noout -ext subjectAltName | grep -q 'DNS:dns.lego.test'"

# RFC 8555 §7.1.3: a wildcard is authorized for its base name by dns-01
check "lego run: a wildcard and its base name over dns-01" \
    timeout 120 $L --key-type ec256 --domains '*.wild.lego.test' \
    --domains wild.lego.test $D run
W="$C/_.wild.lego.test"
check "the wildcard chain verifies to the Agent CA root" \
    openssl verify -CAfile "$AGENT_ROOT" -untrusted "$W.issuer.crt" "$W.crt"
check "the certificate names *.wild.lego.test and wild.lego.test" \
    sh -c "openssl x509 -in '$W.crt' -noout -ext subjectAltName | grep -q 'DNS:\*.wild.lego.test' &&
      openssl x509 -in '$W.crt' -noout -ext subjectAltName | grep -q 'DNS:wild.lego.test'"

WRONG_TXT=1 timeout 120 $L --key-type ec256 --domains bad.lego.test $D \
    run >"$T/lego-bad.out" 2>&1
check "a wrong TXT value: lego fails" test $? -ne 0
check "the order is invalid with incorrectResponse" \
    grep -q 'urn:ietf:params:acme:error:incorrectResponse' "$T/lego-bad.out"
check "no certificate for bad.lego.test" \
    test ! -e "$C/bad.lego.test.crt"
finish
