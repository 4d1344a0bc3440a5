#!/usr/bin/env python3
"""acme_device.py - the ACME side of t_acme_device_attest.sh.

A device-attest-01 client (draft-ietf-acme-device-attest-09) whose TPM
operations run on the swtpm through tpm2-tools (TPM2TOOLS_TCTI from the
environment): TPM2_Certify of the device key by the AK over
SHA-256(keyAuthorization), the CSR signed with TPM2_Sign.  The attestation
object's CBOR is written by hand (test code only).  Prints one "ok - ..."
or "FAIL - ..." line per check.

usage: acme_device.py STEP DIRECTORY_URL CA_FILE TPMDIR AKCERT INTER URN OUT
  STEP: good | negatives | foreign | unregistered | retired
"""
import datetime
import hashlib
import json
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import acme_devlib as L
from acme_devlib import ERR, b64, cbor, der, ok

STEP, DIR, CAFILE, TS, AKCERT, INTER, URN, OUT = sys.argv[1:9]
A = L.Acme(DIR, CAFILE)
THUMB = A.thumb
post = A.post


# ---- TPM (tpm2-tools on the swtpm) ---------------------------------------

def tpm(*args):
    with open(os.path.join(TS, "tools.log"), "ab") as log:
        st = subprocess.run(list(args), cwd=TS, stdout=log, stderr=log)
        subprocess.run(["tpm2_flushcontext", "-t"], cwd=TS,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if st.returncode != 0:
        raise RuntimeError("%s failed" % args[0])


def rd(name):
    with open(os.path.join(TS, name), "rb") as f:
        return f.read()


def device_key(name):
    """A non-restricted P-256 signing key under the SRK, TPM-resident."""
    tpm("tpm2_create", "-C", "srk.ctx", "-G", "ecc256", "-g", "sha256",
        "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign",
        "-u", name + ".pub", "-r", name + ".priv")
    tpm("tpm2_load", "-C", "srk.ctx", "-u", name + ".pub", "-r",
        name + ".priv", "-c", name + ".ctx")
    tpm("tpm2_readpublic", "-c", name + ".ctx", "-f", "der", "-o",
        name + ".spki")


def certify(name, key_auth):
    """TPM2_Certify(name, AK) with qualifyingData SHA-256(key_auth)."""
    q = hashlib.sha256(key_auth.encode()).hexdigest()
    # tpm2-tools 5.4 cannot set qualifyingData: the ESAPI helper
    tpm(os.path.join(os.environ["DEVID_BIN"], "tpm_enroll"), "certify",
        "ak.ctx", name + ".ctx", q, name + ".certinfo", name + ".sig")
    return rd(name + ".certinfo"), rd(name + ".sig")


def der_of(pem_path):
    with open(pem_path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).public_bytes(
            serialization.Encoding.DER)


def att_obj(certinfo, sig, pubarea, x5c):
    return b64(cbor({"fmt": "tpm", "attStmt": {
        "ver": "2.0", "alg": -257, "x5c": x5c, "sig": sig,
        "certInfo": certinfo, "pubArea": pubarea}}))


# ---- DER for the CSR (RFC 2986), signed by the TPM ---------------------

def tpm_csr(name, cn):
    """CertificationRequest of the TPM key name, CN cn (None: empty)."""
    subj = der(0x30, b"")
    if cn is not None:
        atv = der(0x30, der(0x06, bytes.fromhex("550403")) +
                  der(0x0c, cn.encode()))
        subj = der(0x30, der(0x31, atv))
    info = der(0x30, der(0x02, b"\x00") + subj + rd(name + ".spki") +
               der(0xa0, b""))
    with open(os.path.join(TS, name + ".tbs"), "wb") as f:
        f.write(info)
    tpm("tpm2_sign", "-c", name + ".ctx", "-g", "sha256", "-s", "ecdsa",
        "-f", "plain", "-o", name + ".csrsig", name + ".tbs")
    sig = rd(name + ".csrsig")
    alg = der(0x30, der(0x06, bytes.fromhex("2a8648ce3d040302")))
    return der(0x30, info + alg + der(0x03, b"\x00" + sig))


def sw_csr(cn):
    k = ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    return b.sign(k, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


# ---- ACME ----------------------------------------------------------------

order = A.order
wait_order = A.wait_order
problem = L.problem


def answer(ch, obj):
    return A.answer(ch, obj)


ok(A.new_account(), "newAccount")
X5C = [der_of(AKCERT), der_of(INTER)]


def fresh(name):
    device_key(name)
    return rd(name + ".pub")[2:]    # TPM2B_PUBLIC -> TPMT_PUBLIC


if STEP == "good":
    st, o, ch = order(URN)
    ok(st == 201 and ch and ch["type"] == "device-attest-01",
       "newOrder permanent-identifier: one device-attest-01 challenge")
    pub = fresh("dev")
    ci, sig = certify("dev", ch["token"] + "." + THUMB)
    st, j = answer(ch, att_obj(ci, sig, pub, X5C))
    ok(st == 200 and j["status"] == "valid",
       "TPM2_Certify over SHA-256(keyAuthorization): challenge valid "
       "(got %s)" % json.dumps(j))
    oid = o["finalize"]
    st, h, j, _ = post(oid, {"csr": b64(sw_csr(URN))})
    ok(j is not None and j.get("type") == ERR + "badCSR",
       "finalize with a CSR of another key: badCSR (got %s)" % j)
    st, h, j, _ = post(oid, {"csr": b64(tpm_csr("dev", URN))})
    ok(st == 200, "finalize with the CSR signed by the TPM key (got %d %s)"
       % (st, j))
    j = wait_order(oid.rsplit("/", 1)[0])
    ok(j.get("status") == "valid", "the order is valid")
    st, h, _, pem = post(j["certificate"], None)
    with open(os.path.join(OUT, "device-chain.pem"), "wb") as f:
        f.write(pem)
    ok(st == 200 and pem.count(b"BEGIN CERTIFICATE") == 2,
       "certificate download: leaf and intermediate")

elif STEP == "negatives":
    # wrong keyAuthorization
    st, o, ch = order(URN)
    pub = fresh("k1")
    ci, sig = certify("k1", ch["token"] + ".another-thumbprint")
    st, j = answer(ch, att_obj(ci, sig, pub, X5C))
    ok(j["status"] == "invalid" and
       problem(j) == ERR + "badAttestationStatement",
       "wrong keyAuthorization: badAttestationStatement (got %s)" % j)
    # certInfo for another key than pubArea
    st, o, ch = order(URN)
    other = fresh("k2")
    ci, sig = certify("k1", ch["token"] + "." + THUMB)
    st, j = answer(ch, att_obj(ci, sig, other, X5C))
    ok(j["status"] == "invalid" and
       problem(j) == ERR + "badAttestationStatement",
       "certInfo for another key: badAttestationStatement (got %s)" % j)
    # the AK certificate from another CA (another team's attestation
    # root stands in: a CA that is not this team's)
    with open(AKCERT, "rb") as f:
        ak = x509.load_pem_x509_certificate(f.read())
    ck = ec.generate_private_key(ec.SECP256R1())
    cn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                       "other team attestation root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    b = x509.CertificateBuilder().subject_name(ak.subject).issuer_name(
        cn).public_key(ak.public_key()).serial_number(
        x509.random_serial_number()).not_valid_before(
        now - datetime.timedelta(hours=1)).not_valid_after(
        now + datetime.timedelta(hours=1))
    for e in ak.extensions:
        if e.oid.dotted_string in ("2.5.29.17", "2.5.29.37", "2.5.29.15",
                                   "2.5.29.19"):
            b = b.add_extension(e.value, e.critical)
    foreign = b.sign(ck, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)
    st, o, ch = order(URN)
    ci, sig = certify("k1", ch["token"] + "." + THUMB)
    pub = rd("k1.pub")[2:]
    st, j = answer(ch, att_obj(ci, sig, pub, [foreign]))
    ok(j["status"] == "invalid" and
       problem(j) == ERR + "badAttestationStatement",
       "AK chain from another CA: badAttestationStatement (got %s)" % j)
    # the order names another device than the statement
    st, o, ch = order("urn:ek:sha256:" + b64(hashlib.sha256(b"x")
                                              .digest()))
    ci, sig = certify("k1", ch["token"] + "." + THUMB)
    st, j = answer(ch, att_obj(ci, sig, pub, X5C))
    sub = (j.get("error") or {}).get("subproblems") or [{}]
    ok(j["status"] == "invalid" and
       problem(j) == ERR + "badAttestationStatement" and
       sub[0].get("type") == ERR + "rejectedIdentifier",
       "identifier of another device: rejectedIdentifier subproblem "
       "(got %s)" % j)

elif STEP == "foreign":
    # AKCERT/INTER: the same AK certified by another team's Attestation CA
    st, o, ch = order(URN)
    pub = fresh("k4")
    ci, sig = certify("k4", ch["token"] + "." + THUMB)
    st, j = answer(ch, att_obj(ci, sig, pub, X5C))
    ok(j["status"] == "invalid" and
       problem(j) == ERR + "badAttestationStatement",
       "AK certificate of another team's Attestation CA: "
       "badAttestationStatement (got %s)" % j)

elif STEP in ("unregistered", "retired"):
    st, o, ch = order(URN)
    pub = fresh("k3")
    ci, sig = certify("k3", ch["token"] + "." + THUMB)
    st, j = answer(ch, att_obj(ci, sig, pub, X5C))
    ok(j["status"] == "invalid" and problem(j) == ERR + "unauthorized",
       "%s device: unauthorized (got %s)" % (STEP, j))

sys.exit(1 if L.failed() else 0)
