# t_acme_certbot.sh - certbot (standalone http-01) gets a certificate
# from the Agent CA's ACME server on loopback, then revokes it (spec
# interop.md §2.3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.sh"

command -v certbot >/dev/null 2>&1 || die "certbot is not installed (make deps)"
acme_setup
# this environment may export another bundle: override it
export REQUESTS_CA_BUNDLE="$ROOTS"
CB="--config-dir $T/cb/etc --work-dir $T/cb/work --logs-dir $T/cb/log"

check "certbot certonly --standalone" \
    timeout 180 certbot certonly --standalone --non-interactive --agree-tos \
    -m ops@example.org --server "$DIR" --preferred-challenges http \
    --http-01-address 127.0.0.1 --http-01-port "$HTTP01_PORT" $CB \
    --key-type ecdsa --elliptic-curve secp256r1 -d certbot.test
live="$T/cb/etc/live/certbot.test"
check "the chain verifies to the Agent CA root" \
    verify_chain "$live/cert.pem" "$live/chain.pem"
check "fullchain is leaf + intermediate" \
    sh -c "[ \$(grep -c 'BEGIN CERTIFICATE' '$live/fullchain.pem') -eq 2 ]"
check "certbot revoke" \
    timeout 120 certbot revoke --non-interactive --server "$DIR" \
    --cert-path "$live/cert.pem" --no-delete-after-revoke $CB
check "a second revoke is refused (alreadyRevoked)" \
    sh -c "! timeout 120 certbot revoke --non-interactive --server '$DIR' \
    --cert-path '$live/cert.pem' --no-delete-after-revoke $CB >'$T/rev2.out' 2>&1"
finish
