#!/bin/bash
# t_admin_authz.sh - the authorization matrix of the admin API (issue 3,
# item 6): EVERY admin route x {no token, bad token, revoked, expired,
# viewer, mdm-sync, admin, owner, owner of another team} gets exactly the
# documented answer: allowed -> the route's success status (each allowed
# call gets a fresh object where the route consumes one), denied -> 401
# (no, bad, revoked or expired token) or 403 (role too low, other team),
# always as a problem document.  The table below mirrors docs/api.md's role
# matrix and is checked against docs/openapi.yaml's x-min-role first.
. "$(dirname "$0")/lib.sh"

ca_init
grep -q owner.token "$T/init.out" || fail "init's summary names admin/owner.token"
OWNER_FILE="$T/data/admin/owner.token"
check "init wrote admin/owner.token 0600" \
    test "$(stat -c %a "$OWNER_FILE" 2>/dev/null)" = 600
OWNER=$(head -n1 "$OWNER_FILE")
check "the owner token looks like dvt_<id>_<secret>" \
    bash -c "[[ '$OWNER' =~ ^dvt_[A-Za-z0-9]+_[A-Za-z0-9_-]+$ ]]"
# an owner token of another team, minted offline from the data folder
OTHER=$("$DEVID_CA" admin-token --data "$T/data" --team other 2>"$T/other.err") ||
    die "devid-ca admin-token --team other failed: $(cat "$T/other.err")"
start_server
grep -q "owner.token" "$T/server.1.log" &&
    ok "the serve banner names admin/owner.token" ||
    fail "the serve banner names admin/owner.token"

A="https://$HOSTPORT/admin/v1/teams/default"

# req METHOD URL TOKEN [BODY [CTYPE]]: prints the status; body in $T/resp.
req() {
	local m=$1 u=$2 tok=$3 body=${4-} ct=${5:-application/json}
	local args=()
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H "Content-Type: $ct" --data-binary "$body")
	: >"$T/resp"
	http "$m" "$u" "$T/resp" -D "$T/resp.h" "${args[@]}"
}

# ---- the principals ------------------------------------------------------
mint() {	# mint NAME ROLE [EXPIRES]: prints the new token's secret
	local b
	b=$(jq -cn --arg n "$1" --arg r "$2" --arg e "${3-}" \
	    '{name:$n, role:$r} + (if $e == "" then {} else {expiresIn:$e} end)')
	st=$(req POST "$A/tokens" "$OWNER" "$b")
	[ "$st" = 201 ] || die "creating a $2 token: $st $(cat "$T/resp")"
	jq -r .token "$T/resp"
}
declare -A TOK
TOK[viewer]=$(mint t-viewer viewer)
TOK[mdm-sync]=$(mint t-mdm mdm-sync)
TOK[admin]=$(mint t-admin admin)
TOK[owner]=$OWNER
TOK[other]=$OTHER
TOK[none]=""
TOK[bad]="dvt_00000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
TOK[revoked]=$(mint t-revoked admin)
rid=$(jq -r .id "$T/resp")
st=$(req DELETE "$A/tokens/$rid" "$OWNER")
check "the owner revokes a token (204, got $st)" test "$st" = 204
TOK[expired]=$(mint t-expired owner 1s)
sleep 2

# Every principal is accepted or refused as such by a plain GET first.
for p in viewer mdm-sync admin owner; do
	st=$(req GET "$A/devices" "${TOK[$p]}")
	check "$p token lists devices (200, got $st)" test "$st" = 200
done

# ---- the matrix ----------------------------------------------------------
# METHOD PATH(after the team) MIN_ROLE SUCCESS FIXTURE
ROUTES=(
	"GET /devices viewer 200 -"
	"POST /devices admin 201 device_body"
	"POST /devices:import mdm-sync 200 import_body"
	"GET /devices/{id} viewer 200 -"
	"PATCH /devices/{id} admin 200 patch_body"
	"POST /devices/{id}:retire admin 200 fresh_device"
	"GET /collections viewer 200 -"
	"POST /collections admin 201 collection_body"
	"GET /collections/{name} viewer 200 -"
	"PATCH /collections/{name} admin 200 collection_patch"
	"DELETE /collections/{name} admin 204 fresh_collection"
	"GET /tokens owner 200 -"
	"POST /tokens owner 201 token_body"
	"DELETE /tokens/{id} owner 204 fresh_token"
	"GET /acme-eab-keys viewer 200 -"
	"POST /acme-eab-keys admin 201 eab_body"
	"DELETE /acme-eab-keys/{id} admin 204 fresh_eab"
	"GET /audit viewer 200 -"
	"GET /audit:verify viewer 200 -"
)
PRINCIPALS=(none bad revoked expired viewer mdm-sync admin owner other)
declare -A RANK=([viewer]=0 [mdm-sync]=1 [admin]=2 [owner]=3)

# The table is the documented one: same operations, same least roles.
python3 - "$DEVID_SRC/docs/openapi.yaml" >"$T/doc.routes" <<'EOF' ||
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
pre = "/admin/v1/teams/{team}"
for p, ops in d["paths"].items():
    if not p.startswith(pre):
        continue
    for m, op in ops.items():
        # x-min-role none: no admin token involved (the MDM webhook's
        # signature), checked after the matrix
        if m in ("get", "post", "patch", "delete", "put") and \
            op.get("x-min-role") != "none":
            print(m.upper(), p[len(pre):], op.get("x-min-role", "?"))
EOF
	fail "docs/openapi.yaml is valid YAML"
printf '%s\n' "${ROUTES[@]}" | awk '{ print $1, $2, $3 }' | sort >"$T/table.routes"
sort -o "$T/doc.routes" "$T/doc.routes"
if diff -u "$T/doc.routes" "$T/table.routes" >"$T/routes.diff"; then
	ok "the matrix table is docs/openapi.yaml's (${#ROUTES[@]} routes)"
else
	fail "the matrix table differs from docs/openapi.yaml: $(cat "$T/routes.diff")"
fi

# Shared fixtures (for GETs and denied calls).
# (called in command substitutions: no counter survives them)
uniq() { echo "$1-$(date +%s%N)-$RANDOM"; }
st=$(req POST "$A/devices" "$OWNER" \
    "$(jq -cn --arg s "$(uniq SER)" '{name:"fixture",identifiers:[{type:"serial",value:$s}]}')")
[ "$st" = 201 ] || die "fixture device: $st $(cat "$T/resp")"
DEV=$(jq -r .id "$T/resp")
st=$(req POST "$A/collections" "$OWNER" '{"name":"fixture-coll","kind":"laptop","os":"linux","source":"manual"}')
[ "$st" = 201 ] || die "fixture collection: $st $(cat "$T/resp")"
COLL=fixture-coll
FTOK=$(mint fixture-token viewer)
FTID=$(jq -r .id "$T/resp")
st=$(req POST "$A/acme-eab-keys" "$OWNER" '{"provisioner":"acme"}')
[ "$st" = 201 ] || die "fixture EAB key: $st $(cat "$T/resp")"
FEAB=$(jq -r .id "$T/resp")

# Each fixture sets ID (the path parameter) and BODY/CTYPE for one call.
fixture() {
	ID="" BODY="" CTYPE=application/json
	case $1 in
	-|patch_body|collection_patch) ;;
	device_body)
		BODY=$(jq -cn --arg s "$(uniq SER)" '{name:"m",identifiers:[{type:"serial",value:$s}]}') ;;
	import_body)
		BODY=$(printf 'name,serial\nimp,%s\n' "$(uniq IMP)")
		CTYPE=text/csv ;;
	fresh_device)
		[ "$2" = allow ] || return 0
		req POST "$A/devices" "$OWNER" "$(jq -cn --arg s "$(uniq SER)" \
		    '{name:"r",identifiers:[{type:"serial",value:$s}]}')" >/dev/null
		ID=$(jq -r .id "$T/resp") ;;
	collection_body)
		BODY=$(jq -cn --arg n "$(uniq coll)" '{name:$n,kind:"laptop",os:"linux",source:"manual"}') ;;
	fresh_collection)
		[ "$2" = allow ] || return 0
		ID=$(uniq del)
		req POST "$A/collections" "$OWNER" "$(jq -cn --arg n "$ID" \
		    '{name:$n,kind:"laptop",os:"linux",source:"manual"}')" >/dev/null ;;
	token_body)
		BODY=$(jq -cn --arg n "$(uniq tok)" '{name:$n,role:"viewer"}') ;;
	fresh_token)
		[ "$2" = allow ] || return 0
		mint "$(uniq gone)" viewer >/dev/null
		ID=$(jq -r .id "$T/resp") ;;
	eab_body)
		BODY='{"provisioner":"acme","reference":"matrix"}' ;;
	fresh_eab)
		[ "$2" = allow ] || return 0
		req POST "$A/acme-eab-keys" "$OWNER" '{"provisioner":"acme"}' >/dev/null
		ID=$(jq -r .id "$T/resp") ;;
	esac
	case $1 in
	patch_body) BODY='{"owner":"matrix@example.com"}' ;;
	collection_patch) BODY='{"rules":[{"tag":"matrix"}]}' ;;
	esac
}

CASES=0
for row in "${ROUTES[@]}"; do
	read -r method path min success fix <<<"$row"
	for p in "${PRINCIPALS[@]}"; do
		case $p in
		none|bad|revoked|expired) want=401 ;;
		other) want=403 ;;
		*) if [ "${RANK[$p]}" -ge "${RANK[$min]}" ]; then
			want=$success
		   else
			want=403
		   fi ;;
		esac
		if [ "$want" = "$success" ]; then
			fixture "$fix" allow
		else
			fixture "$fix" deny
		fi
		id=$ID
		if [ -z "$id" ]; then
			case $path in
			/devices/*) id=$DEV ;;
			/collections/*) id=$COLL ;;
			/tokens/*) id=$FTID ;;
			/acme-eab-keys/*) id=$FEAB ;;
			esac
		fi
		u="$A${path/\{id\}/$id}"
		u="${u/\{name\}/$id}"
		st=$(req "$method" "$u" "${TOK[$p]}" "$BODY" "$CTYPE")
		CASES=$((CASES + 1))
		if [ "$st" != "$want" ]; then
			fail "$method $path as $p: want $want, got $st $(head -c 300 "$T/resp")"
			continue
		fi
		if [ "$want" = 401 ] || [ "$want" = 403 ]; then
			if ! is_problem "$T/resp" "$want"; then
				fail "$method $path as $p: $want without a problem document"
				continue
			fi
			if [ "$want" = 401 ] &&
			    ! grep -qi '^WWW-Authenticate: Bearer' "$T/resp.h"; then
				fail "$method $path as $p: 401 without WWW-Authenticate"
				continue
			fi
		fi
		ok "$method $path as $p: $st"
	done
done
echo "# authorization matrix: ${#ROUTES[@]} routes x ${#PRINCIPALS[@]} principals = $CASES cases"

# The MDM webhook (x-min-role none) takes a signature, not a token: no
# token, not even the owner's, reaches past it (no source here: 404).
for p in "${PRINCIPALS[@]}"; do
	st=$(req POST "$A/mdm/jamf/webhook" "${TOK[$p]}" '{"event":"upsert","devices":[]}')
	check "POST /mdm/{source}/webhook as $p: 404 whatever the token ($st)" \
	    test "$st" = 404
done

# The denied calls changed nothing: the fixtures are as they were.
st=$(req GET "$A/devices/$DEV" "$OWNER")
check "denied retires left the fixture device active ($st)" \
    test "$(jq -r .status "$T/resp")" != retired
st=$(req GET "$A/collections/$COLL" "$OWNER")
check "denied deletes left the fixture collection ($st)" test "$st" = 200
st=$(req GET "$A/devices" "$FTOK")
check "denied revocations left the fixture token valid ($st)" test "$st" = 200

# A token of one team on another team's path is refused, both ways.
B="https://$HOSTPORT/admin/v1/teams/other"
st=$(req GET "$B/devices" "$OWNER")
check "default's owner on team other's path: 403 (got $st)" test "$st" = 403
st=$(req GET "$B/devices" "$OTHER")
check "other's owner on its own path: 200 (got $st)" test "$st" = 200
st=$(req GET "$B/devices/$DEV" "$OTHER")
check "other's owner cannot see default's device: 404 (got $st)" test "$st" = 404

# Routing before authorization: unknown route 404, wrong method 405.
st=$(req GET "$A/nothing" "")
check "unknown admin route: 404 without a token (got $st)" test "$st" = 404
st=$(req PUT "$A/devices" "$OWNER")
check "PUT on devices: 405 (got $st)" test "$st" = 405
check "... naming the allowed methods" grep -qi '^Allow: GET, POST' "$T/resp.h"
st=$(req DELETE "$A/devices/$DEV" "$OWNER")
check "DELETE on a device: 405 (got $st; devices are retired)" test "$st" = 405
st=$(req GET "$A/devices" "Basic Zm9vOmJhcg==")
check "a non-dvt bearer: 401 (got $st)" test "$st" = 401

finish
