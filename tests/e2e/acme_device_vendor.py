#!/usr/bin/env python3
"""acme_device_vendor.py - the client of t_acme_device_vendor.sh:
device-attest-01 with the `apple` and `step` formats (spec/attestation.md
§9, §10, §12) against the Agent CA, with test CAs standing in for Apple's
Enterprise Attestation CA and Yubico's PIV attestation CA (the server is
configured to trust their roots).  Prints one "ok - " or "FAIL - " line
per check.

usage: acme_device_vendor.py roots OUTDIR
       acme_device_vendor.py run DIRECTORY_URL CA_FILE OUTDIR UDID SERIAL
                                 YKSERIAL UNREGISTERED
  roots: writes apple-root.pem and yubico-root.pem (the server's
         attestationRoots) and the issuing CAs' certificates and keys.
  run:   good orders for the UDID, the Apple serial and the YubiKey
         serial (leaf certificates in OUTDIR/{apple,step}-chain.pem), then
         every refusal; UNREGISTERED is a UDID no device has.
"""
import datetime
import hashlib
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

import acme_devlib as L

NOW = datetime.datetime.now(datetime.timezone.utc)
APPLE_SERIAL = "1.2.840.113635.100.8.9.1"
APPLE_UDID = "1.2.840.113635.100.8.9.2"
APPLE_NONCE = "1.2.840.113635.100.8.11.1"
YK_SERIAL = "1.3.6.1.4.1.41482.3.7"


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer, ikey, ca, exts=()):
    b = x509.CertificateBuilder().subject_name(name(subject)).issuer_name(
        name(issuer)).public_key(key.public_key()).serial_number(
        x509.random_serial_number()).not_valid_before(
        NOW - datetime.timedelta(hours=1)).not_valid_after(
        NOW + datetime.timedelta(days=30 if ca else 1))
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True)
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    for oid, value in exts:
        b = b.add_extension(x509.UnrecognizedExtension(
            ObjectIdentifier(oid), value), critical=False)
    h = hashes.SHA384() if isinstance(ikey, ec.EllipticCurvePrivateKey) \
        and ikey.curve.name == "secp384r1" else hashes.SHA256()
    return b.sign(ikey, h)


def pem_of(c):
    return c.public_bytes(serialization.Encoding.PEM)


def der_of(c):
    return c.public_bytes(serialization.Encoding.DER)


def save_key(path, k):
    with open(path, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def roots(out):
    """Two test hierarchies, as the vendors' are: Apple's P-384 root and
    Sub CA; Yubico's RSA root and a device (F9) intermediate.  And a third
    root the server does not trust."""
    ar = ec.generate_private_key(ec.SECP384R1())
    asub = ec.generate_private_key(ec.SECP384R1())
    yr = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    yf9 = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP384R1())
    arc = cert("Test Enterprise Attestation Root CA", ar,
               "Test Enterprise Attestation Root CA", ar, True)
    asc = cert("Test Enterprise Attestation Sub CA 1", asub,
               "Test Enterprise Attestation Root CA", ar, True)
    yrc = cert("Test PIV Root CA", yr, "Test PIV Root CA", yr, True)
    yfc = cert("Test PIV Attestation F9", yf9, "Test PIV Root CA", yr, True)
    # the untrusted CA reuses the trusted names: only keys tell them apart
    osc = cert("Test Enterprise Attestation Sub CA 1", other,
               "Test Enterprise Attestation Sub CA 1", other, True)
    for fn, c in (("apple-root.pem", arc), ("apple-sub.pem", asc),
                  ("yubico-root.pem", yrc), ("yubico-f9.pem", yfc),
                  ("other-ca.pem", osc)):
        with open(os.path.join(out, fn), "wb") as f:
            f.write(pem_of(c))
    save_key(os.path.join(out, "apple-sub.key"), asub)
    save_key(os.path.join(out, "yubico-f9.key"), yf9)
    save_key(os.path.join(out, "other-ca.key"), other)


def csr(key, cn):
    b = x509.CertificateSigningRequestBuilder().subject_name(name(cn))
    h = hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) \
        and key.curve.name == "secp384r1" else hashes.SHA256()
    return L.b64(b.sign(key, h).public_bytes(serialization.Encoding.DER))


class Vendor:
    def __init__(self, out):
        self.out = out
        self.asub = load_cert(os.path.join(out, "apple-sub.pem"))
        self.asubk = load_key(os.path.join(out, "apple-sub.key"))
        self.f9 = load_cert(os.path.join(out, "yubico-f9.pem"))
        self.f9k = load_key(os.path.join(out, "yubico-f9.key"))
        self.other = load_cert(os.path.join(out, "other-ca.pem"))
        self.otherk = load_key(os.path.join(out, "other-ca.key"))

    def apple(self, key, nonce, udid, serial, untrusted=False):
        """attObj of an Apple MDA leaf for key: raw extension octets."""
        exts = []
        if serial is not None:
            exts.append((APPLE_SERIAL, serial.encode()))
        if udid is not None:
            exts.append((APPLE_UDID, udid.encode()))
        if nonce is not None:
            exts.append((APPLE_NONCE, nonce))
        ca, cak = (self.other, self.otherk) if untrusted else \
            (self.asub, self.asubk)
        leaf = cert("device", key, "Test Enterprise Attestation Sub CA 1",
                    cak, False, exts)
        return L.b64(L.cbor({"fmt": "apple", "attStmt": {
            "x5c": [der_of(leaf), der_of(ca)]}}))

    def step(self, key, signer, key_auth, serial, wrap=True,
             untrusted=False):
        """attObj of a YubiKey PIV slot attestation for key; signer signs
        key_auth (the slot key when honest)."""
        ca, cak = (self.other, self.otherk) if untrusted else \
            (self.f9, self.f9k)
        leaf = cert("YubiKey PIV Attestation 9a", key,
                    "Test PIV Attestation F9", cak, False,
                    [(YK_SERIAL, L.der_int(int(serial)))])
        sig = signer.sign(key_auth.encode(), ec.ECDSA(hashes.SHA256()))
        return L.b64(L.cbor({"fmt": "step", "attStmt": {
            "alg": -7, "sig": L.cbor(sig) if wrap else sig,
            "x5c": [der_of(leaf), der_of(ca)]}}))


def good(a, v, ident, obj_of, key, what, out_name):
    st, o, ch = a.order(ident)
    L.ok(st == 201 and ch is not None,
         "%s: newOrder permanent-identifier %s offers device-attest-01"
         % (what, ident))
    if ch is None:
        return
    st, j = a.answer(ch, obj_of(ch))
    L.ok(st == 200 and j.get("status") == "valid",
         "%s: challenge valid (got %s)" % (what, j))
    fin = o["finalize"]
    other = ec.generate_private_key(ec.SECP256R1())
    st, h, j, _ = a.post(fin, {"csr": csr(other, ident)})
    L.ok(L.problem(j) == L.ERR + "badCSR",
         "%s: finalize with another key's CSR: badCSR (got %s)" % (what, j))
    st, h, j, _ = a.post(fin, {"csr": csr(key, "not-" + ident)})
    L.ok(L.problem(j) == L.ERR + "badCSR",
         "%s: finalize with another CN: badCSR (got %s)" % (what, j))
    st, h, j, _ = a.post(fin, {"csr": csr(key, ident)})
    L.ok(st == 200, "%s: finalize with the attested key (got %d %s)"
         % (what, st, j))
    j = a.wait_order(fin.rsplit("/", 1)[0])
    L.ok(j.get("status") == "valid", "%s: the order is valid" % what)
    if "certificate" not in j:
        return
    st, h, _, pem = a.post(j["certificate"], None)
    L.ok(st == 200 and pem.count(b"BEGIN CERTIFICATE") == 2,
         "%s: certificate download, leaf and intermediate" % what)
    with open(os.path.join(v.out, out_name), "wb") as f:
        f.write(pem)
    with open(os.path.join(v.out, out_name + ".key"), "wb") as f:
        f.write(key.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo))


def refused(a, ident, obj_of, want, sub, what):
    st, o, ch = a.order(ident)
    if ch is None:
        L.ok(False, "%s: no challenge (order %d %s)" % (what, st, o))
        return
    st, j = a.answer(ch, obj_of(ch))
    got, gsub = L.problem(j), L.subproblem(j)
    L.ok(j.get("status") == "invalid" and got == L.ERR + want and
         (sub is None or gsub == L.ERR + sub),
         "%s: %s%s (got %s)" % (what, want, "/" + sub if sub else "", j))


def run(url, cafile, out, udid, serial, ykserial, unreg):
    a = L.Acme(url, cafile)
    v = Vendor(out)
    L.ok(a.new_account(), "newAccount")
    sha = lambda s: hashlib.sha256(s.encode()).digest()

    # ---- apple -------------------------------------------------------
    ak = ec.generate_private_key(ec.SECP384R1())
    good(a, v, udid, lambda ch: v.apple(ak, sha(ch["token"]), udid, serial),
         ak, "apple (UDID, nonce = SHA-256(token))", "apple-chain.pem")
    k2 = ec.generate_private_key(ec.SECP384R1())
    good(a, v, serial, lambda ch: v.apple(k2, sha(a.key_auth(ch)), udid,
                                          serial),
         k2, "apple (serial, nonce = SHA-256(keyAuthorization))",
         "apple-serial-chain.pem")
    refused(a, udid, lambda ch: v.apple(ak, sha("another token"), udid,
                                        serial),
            "badAttestationStatement", None, "apple: nonce of another token")
    refused(a, udid, lambda ch: v.apple(ak, None, udid, serial),
            "badAttestationStatement", None, "apple: no nonce extension")
    refused(a, udid, lambda ch: v.apple(ak, sha(ch["token"]), udid, serial,
                                        untrusted=True),
            "badAttestationStatement", None,
            "apple: chain to an untrusted root with the same names")
    refused(a, udid, lambda ch: v.apple(ak, sha(ch["token"]), None, None),
            "badAttestationStatement", None,
            "apple: neither serial nor UDID (User Enrollment)")
    refused(a, udid, lambda ch: v.apple(ak, sha(ch["token"]), unreg,
                                        "OTHERSERIAL"),
            "badAttestationStatement", "rejectedIdentifier",
            "apple: the leaf names another device")
    refused(a, unreg, lambda ch: v.apple(ak, sha(ch["token"]), unreg,
                                         None),
            "unauthorized", None, "apple: unregistered UDID")

    # ---- step (YubiKey PIV) ---------------------------------------------
    yk = ec.generate_private_key(ec.SECP256R1())
    good(a, v, ykserial, lambda ch: v.step(yk, yk, a.key_auth(ch),
                                           ykserial),
         yk, "step (YubiKey serial)", "step-chain.pem")
    other = ec.generate_private_key(ec.SECP256R1())
    refused(a, ykserial, lambda ch: v.step(yk, other, a.key_auth(ch),
                                           ykserial),
            "badAttestationStatement", None,
            "step: signed by another key than the attested one")
    refused(a, ykserial, lambda ch: v.step(yk, yk, ch["token"] + ".x",
                                           ykserial),
            "badAttestationStatement", None,
            "step: signature over another key authorization")
    refused(a, ykserial, lambda ch: v.step(yk, yk, a.key_auth(ch),
                                           ykserial, wrap=False),
            "badAttestationStatement", None,
            "step: sig not CBOR-wrapped")
    refused(a, ykserial, lambda ch: v.step(yk, yk, a.key_auth(ch),
                                           ykserial, untrusted=True),
            "badAttestationStatement", None, "step: untrusted root")
    refused(a, ykserial, lambda ch: v.step(yk, yk, a.key_auth(ch),
                                           "99999999"),
            "badAttestationStatement", "rejectedIdentifier",
            "step: the slot certificate names another YubiKey")
    return 1 if L.failed() else 0


def builtin(url, cafile, out, udid, serial, ykserial, unreg):
    """The provisioner has no attestationRoots: Apple's and Yubico's real
    roots apply, and the test CAs are not trusted."""
    a = L.Acme(url, cafile)
    v = Vendor(out)
    L.ok(a.new_account(), "newAccount")
    ak = ec.generate_private_key(ec.SECP384R1())
    refused(a, udid, lambda ch: v.apple(ak, hashlib.sha256(
        ch["token"].encode()).digest(), udid, serial),
        "badAttestationStatement", None,
        "apple with the built-in roots: the test CA is not Apple's")
    yk = ec.generate_private_key(ec.SECP256R1())
    refused(a, ykserial, lambda ch: v.step(yk, yk, a.key_auth(ch),
                                           ykserial),
            "badAttestationStatement", None,
            "step with the built-in roots: the test CA is not Yubico's")
    return 1 if L.failed() else 0


if __name__ == "__main__":
    if sys.argv[1] == "roots":
        roots(sys.argv[2])
        sys.exit(0)
    if sys.argv[1] == "builtin":
        sys.exit(builtin(*sys.argv[2:9]))
    sys.exit(run(*sys.argv[2:9]))
