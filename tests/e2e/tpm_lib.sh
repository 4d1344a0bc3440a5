# tpm_lib.sh - a software TPM for the attestation scenarios: swtpm with
# EK certificates provisioned by swtpm_localca, driven with tpm2-tools
# (spec/interop.md §1).  Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/tpm_lib.sh"
#	tpm_provision; tpm_start; ...; (tpm_stop runs from the EXIT trap)
#
# Everything lives under $T/tpm; swtpm listens on two free consecutive
# loopback ports (the swtpm TCTI takes the control port as port + 1) and
# is stopped by its PID.  There is no resource manager: every tool that
# loads an object is followed by tpm2_flushcontext (interop.md §1.2).

for tool in swtpm swtpm_setup swtpm_localca tpm2_createek tpm2_create \
    tpm2_certifycreation tpm2_activatecredential; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "FATAL: $SCENARIO needs '$tool' (make deps: swtpm swtpm-tools tpm2-tools)"
		exit 1
	}
done

TS="$T/tpm"
SWTPM_PID=""

# Prints a free loopback port P such that P + 1 is free too.
free_port_pair() {
	python3 -c 'import socket
while True:
    a = socket.socket()
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
        print(p)
        break
    except OSError:
        pass
    finally:
        a.close()
        b.close()'
}

# Manufactures the TPM state with an RSA 2048 and an ECC (P-384) EK and
# their certificates, signed by a private swtpm_localca (interop.md §1.1).
# Sets EK_CA_ROOT and EK_CA_ISSUER (PEM files).
tpm_provision() {
	mkdir -p "$TS/state" "$TS/localca" "$TS/ekcerts"
	cat >"$TS/swtpm-localca.conf" <<EOF
statedir = $TS/localca
signingkey = $TS/localca/signkey.pem
issuercert = $TS/localca/issuercert.pem
certserial = $TS/localca/certserial
EOF
	printf -- '--platform-manufacturer Debian\n--platform-version 2.1\n--platform-model swtpm-test\n' \
	    >"$TS/swtpm-localca.options"
	cat >"$TS/swtpm_setup.conf" <<EOF
create_certs_tool= /usr/bin/swtpm_localca
create_certs_tool_config = $TS/swtpm-localca.conf
create_certs_tool_options = $TS/swtpm-localca.options
active_pcr_banks = sha256
EOF
	swtpm_setup --tpm2 --tpmstate "$TS/state" --config "$TS/swtpm_setup.conf" \
	    --create-ek-cert --create-platform-cert \
	    --write-ek-cert-files "$TS/ekcerts" --overwrite \
	    >"$TS/setup.log" 2>&1 || die "swtpm_setup failed: $(tail -5 "$TS/setup.log")"
	EK_CA_ROOT="$TS/localca/swtpm-localca-rootca-cert.pem"
	EK_CA_ISSUER="$TS/localca/issuercert.pem"
	[ -s "$EK_CA_ROOT" ] && [ -s "$EK_CA_ISSUER" ] ||
	    die "swtpm_localca wrote no CA certificates"
}

# Starts swtpm in the foreground of a background job (its own PID) and
# points tpm2-tools at it.
tpm_start() {
	local port i
	port=$(free_port_pair)
	swtpm socket --tpm2 --flags startup-clear --tpmstate dir="$TS/state" \
	    --server type=tcp,port="$port",bindaddr=127.0.0.1 \
	    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
	    --log file="$TS/swtpm.log",level=1 >>"$TS/swtpm.out" 2>&1 &
	SWTPM_PID=$!
	export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
	for i in $(seq 1 50); do
		tpm2_getrandom 4 >/dev/null 2>&1 && return 0
		kill -0 "$SWTPM_PID" 2>/dev/null || die "swtpm exited: $(cat "$TS/swtpm.out")"
		sleep 0.1
	done
	die "swtpm did not answer on port $port"
}

tpm_stop() {
	local pid=$SWTPM_PID
	[ -n "$pid" ] || return 0
	SWTPM_PID=""
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Runs a tpm2 tool quietly (output in $TS/tools.log) and flushes the
# transient objects it left behind.
tpm() {
	"$@" >>"$TS/tools.log" 2>&1
	local st=$?
	tpm2_flushcontext -t >/dev/null 2>&1
	return $st
}

# The EKs (interop.md §1.3): RSA 2048 (transient, re-derived: it is the
# certified one) and ECC P-384 (persistent 0x81010016; tpm2_createek -G
# ecc would make an uncertified P-256 one).  Writes ek_rsa.der/.pem,
# ek_ecc.der/.pem (SPKI) and their certificates ek_rsa.crt, ek_ecc.crt
# (DER from NV); the SRK srk.ctx.
tpm_eks() {
	(
		cd "$TS" || exit 1
		tpm tpm2_createek -c ek_rsa.ctx -G rsa -u ek_rsa.pub || exit 1
		tpm tpm2_readpublic -c ek_rsa.ctx -f der -o ek_rsa.der || exit 1
		tpm tpm2_nvread 0x01c00002 -C o -o ek_rsa.crt || exit 1
		tpm tpm2_nvread 0x01c00016 -C o -o ek_ecc.crt || exit 1
		# the P-384 key as its certificate holds it
		openssl x509 -inform der -in ek_ecc.crt -pubkey -noout |
		    openssl pkey -pubin -outform der -out ek_ecc.der || exit 1
		openssl pkey -pubin -inform der -in ek_rsa.der -out ek_rsa.pem &&
		    openssl pkey -pubin -inform der -in ek_ecc.der -out ek_ecc.pem ||
		    exit 1
		tpm tpm2_createprimary -C o -g sha256 -G rsa -c srk.ctx || exit 1
	) || die "creating the EKs and the SRK failed: $(tail -5 "$TS/tools.log")"
}

# tpm_ak NAME [ATTRIBUTES]: an AK under the SRK with creation data,
# certified by itself (TPM2_CertifyCreation, as go-attestation's NewAK):
# NAME.pub (TPM2B_PUBLIC), NAME.cdata (TPM2B_CREATION_DATA), NAME.attest
# (TPMS_ATTEST), NAME.sig (TPMT_SIGNATURE), NAME.ctx, NAME.name.
tpm_ak() {
	local n=$1
	local attrs=${2:-fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda}
	(
		cd "$TS" || exit 1
		tpm tpm2_create -C srk.ctx -G rsa2048:rsassa-sha256:null -g sha256 \
		    -a "$attrs" -u "$n.pub" -r "$n.priv" --creation-data "$n.cdata" \
		    -d "$n.chash" -t "$n.ticket" || exit 1
		tpm tpm2_load -C srk.ctx -u "$n.pub" -r "$n.priv" -c "$n.ctx" \
		    -n "$n.name" || exit 1
		tpm tpm2_certifycreation -C "$n.ctx" -c "$n.ctx" -d "$n.chash" \
		    -t "$n.ticket" -g sha256 -s rsassa -o "$n.sig" \
		    --attestation "$n.attest" || exit 1
	) || die "creating AK $n failed: $(tail -5 "$TS/tools.log")"
}

# tpm_activate_rsa AK CREDFILE OUT: ActivateCredential with the RSA EK
# (PolicySecret(endorsement) is its whole authPolicy).
tpm_activate_rsa() {
	(
		cd "$TS" || exit 1
		tpm2_startauthsession --policy-session -S sess.ctx >>tools.log 2>&1 &&
		    tpm2_policysecret -S sess.ctx -c e >>tools.log 2>&1 &&
		    tpm2_activatecredential -c "$1.ctx" -C ek_rsa.ctx -i "$2" \
		    -o "$3" -P session:sess.ctx >>tools.log 2>&1
		local st=$?
		tpm2_flushcontext sess.ctx >/dev/null 2>&1
		tpm2_flushcontext -t >/dev/null 2>&1
		exit $st
	)
}

# tpm_activate_ecc AK CREDFILE OUT: the same with the P-384 EK, whose
# authPolicy is PolicyOR(PolicyA, PolicyC) of the EK Credential Profile
# 2.5 (interop.md §1.5).
tpm_activate_ecc() {
	(
		cd "$TS" || exit 1
		python3 -c 'import sys
open("pA.bin", "wb").write(bytes.fromhex(sys.argv[1]))
open("pC.bin", "wb").write(bytes.fromhex(sys.argv[2]))' \
		    8bbf2266537c171cb56e403c4dc1d4b64f432611dc386e6f532050c3278c930e143e8bb1133824ccb431053871c6db53 \
		    d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b455e261cffd217ad5b4947c2d73e63005eed2dc2b3593d165
		tpm2_startauthsession --policy-session -g sha384 -S s384.ctx >>tools.log 2>&1 &&
		    tpm2_policysecret -S s384.ctx -c e >>tools.log 2>&1 &&
		    tpm2_policyor -S s384.ctx -l sha384:pA.bin,pC.bin >>tools.log 2>&1 &&
		    tpm2_activatecredential -c "$1.ctx" -C 0x81010016 -i "$2" \
		    -o "$3" -P session:s384.ctx >>tools.log 2>&1
		local st=$?
		tpm2_flushcontext s384.ctx >/dev/null 2>&1
		tpm2_flushcontext -t >/dev/null 2>&1
		exit $st
	)
}

# The EXIT trap of lib.sh, with swtpm stopped first.
tpm_on_exit() {
	local st=$?
	tpm_stop
	(exit $st)
	on_exit
}
trap tpm_on_exit EXIT
