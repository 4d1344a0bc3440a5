# acme_lib.sh - shared setup of the ACME scenarios (t_acme_*.sh): the
# Agent CA's default "acme" provisioner validates http-01 on a free
# loopback port (httpPort) and connects every name to 127.0.0.1 (resolve).
#
#	. "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/acme_lib.sh"
#	acme_setup          # sets HTTP01_PORT, DIR (directory URL), AGENT_ROOT

acme_setup() {
	ca_init
	HTTP01_PORT=$(free_port)
	jq --argjson hp "$HTTP01_PORT" '
	    .teams.default.authorities.agent.provisioners |= map(
	      if .type == "ACME" and .name == "acme" then
	        . + {"httpPort": $hp, "resolve": {"*": "127.0.0.1"}}
	      else . end)' "$T/data/config.json" >"$T/config.new" &&
	    mv "$T/config.new" "$T/data/config.json" ||
	    die "cannot configure the ACME provisioner"
	start_server
	DIR="https://$HOSTPORT/t/default/agent/acme/acme/directory"
	AGENT_ROOT="$T/data/certs/agent-root.crt"
}

# verify_chain LEAF CHAIN: the leaf verifies to the Agent CA root through
# the intermediate(s) in CHAIN.
verify_chain() {
	openssl verify -CAfile "$AGENT_ROOT" -untrusted "$2" "$1" >/dev/null 2>&1
}
