"""acme_devlib.py - what the device-attest-01 test clients share: a minimal
RFC 8555 client (ES256 account, kid after newAccount), the CBOR subset of
an attestation object, DER pieces, and "ok - "/"FAIL - " check lines.
Test code only: the server under test never runs any of it.
"""
import base64
import hashlib
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)

ERR = "urn:ietf:params:acme:error:"
FAILS = 0


def ok(cond, what):
    global FAILS
    if not cond:
        FAILS += 1
    print(("ok - " if cond else "FAIL - ") + what)
    sys.stdout.flush()


def failed():
    return FAILS


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def problem(j):
    """The error type of a challenge/authorization object or problem."""
    if j is None:
        return ""
    e = j.get("error") or j
    return e.get("type", "")


def subproblem(j):
    e = (j or {}).get("error") or {}
    sub = e.get("subproblems") or [{}]
    return sub[0].get("type", "")


class Acme:
    """One ACME account on the directory url, its key P-256."""

    def __init__(self, url, cafile):
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.d = json.loads(self.request("GET", url)[2])
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = None
        self.thumb = b64(hashlib.sha256(json.dumps(
            self.jwk(), sort_keys=True, separators=(",", ":")).encode())
            .digest())

    def request(self, method, url, body=None):
        req = urllib.request.Request(url, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/jose+json")
        try:
            with urllib.request.urlopen(req, context=self.ctx,
                                        timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def jwk(self):
        n = self.key.public_key().public_numbers()
        return {"crv": "P-256", "kty": "EC",
                "x": b64(n.x.to_bytes(32, "big")),
                "y": b64(n.y.to_bytes(32, "big"))}

    def post(self, url, payload):
        """(status, headers, JSON or None, raw body)"""
        n = self.request("HEAD", self.d["newNonce"])[1]["Replay-Nonce"]
        prot = {"alg": "ES256", "nonce": n, "url": url}
        if self.kid is None:
            prot["jwk"] = self.jwk()
        else:
            prot["kid"] = self.kid
        p = b64(json.dumps(prot).encode())
        pl = "" if payload is None else b64(json.dumps(payload).encode())
        r, s = decode_dss_signature(self.key.sign(
            (p + "." + pl).encode(), ec.ECDSA(hashes.SHA256())))
        body = {"protected": p, "payload": pl,
                "signature": b64(r.to_bytes(32, "big") +
                                 s.to_bytes(32, "big"))}
        st, h, b = self.request("POST", url, json.dumps(body).encode())
        try:
            j = json.loads(b)
        except ValueError:
            j = None
        return st, h, j, b

    def new_account(self):
        st, h, j, _ = self.post(self.d["newAccount"],
                                {"termsOfServiceAgreed": True})
        self.kid = h.get("Location")
        return st == 201 and self.kid is not None

    def order(self, value):
        """(status, order, its device-attest-01 challenge or None)"""
        st, h, j, _ = self.post(self.d["newOrder"], {"identifiers": [
            {"type": "permanent-identifier", "value": value}]})
        if st != 201:
            return st, j, None
        az = self.post(j["authorizations"][0], None)[2]
        ch = [c for c in az["challenges"] if c["type"] == "device-attest-01"]
        return st, j, ch[0] if ch else None

    def key_auth(self, ch):
        return ch["token"] + "." + self.thumb

    def answer(self, ch, obj):
        st, h, j, _ = self.post(ch["url"], {"attObj": obj})
        return st, j

    def wait_order(self, url):
        j = {}
        for _ in range(100):
            j = self.post(url, None)[2]
            if j["status"] not in ("processing", "pending", "ready"):
                return j
            time.sleep(0.1)
        return j


# ---- CBOR (RFC 8949, the subset of an attestation object) -------------

def cb_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + n.to_bytes(4, "big")


def cbor(v):
    if isinstance(v, int):
        return cb_head(0, v) if v >= 0 else cb_head(1, -1 - v)
    if isinstance(v, bytes):
        return cb_head(2, len(v)) + v
    if isinstance(v, str):
        return cb_head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return cb_head(4, len(v)) + b"".join(cbor(e) for e in v)
    return cb_head(5, len(v)) + b"".join(cbor(k) + cbor(e)
                                         for k, e in v.items())


# ---- DER ----------------------------------------------------------------

def der(tag, body):
    n = len(body)
    if n < 128:
        ln = bytes([n])
    elif n < 256:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([tag]) + ln + body


def der_int(v):
    """DER INTEGER of a non-negative v."""
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, b)
