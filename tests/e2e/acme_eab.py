#!/usr/bin/env python3
"""acme_eab.py - the newAccount external account binding checks of RFC 8555
§7.3.4 that real clients never fail, for t_acme_eab.sh: each malformed
binding, a wrong MAC, a MAC alg whose hash is longer than the key, then the
binding, the account found again, and the key refused to a second account.
Prints one "ok - ..." or "FAIL - ..." line per check.

usage: acme_eab.py DIRECTORY_URL CA_FILE KID HMAC_KEY_B64URL
"""
import base64
import hashlib
import hmac
import json
import ssl
import sys
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)

DIR, CAFILE, KID, HKEY = sys.argv[1:5]
CTX = ssl.create_default_context(cafile=CAFILE)
ERR = "urn:ietf:params:acme:error:"
FAILS = 0


def ok(cond, what):
    global FAILS
    print(("ok - " if cond else "FAIL - ") + what)
    FAILS += 0 if cond else 1
    sys.stdout.flush()


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ub64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def request(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/jose+json")
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


D = json.loads(request("GET", DIR)[2])


def jwk_of(key):
    n = key.public_key().public_numbers()
    return {"crv": "P-256", "kty": "EC", "x": b64(n.x.to_bytes(32, "big")),
            "y": b64(n.y.to_bytes(32, "big"))}


def new_account(key, payload):
    nonce = request("HEAD", D["newNonce"])[1]["Replay-Nonce"]
    p = b64(json.dumps({"alg": "ES256", "nonce": nonce,
                        "url": D["newAccount"], "jwk": jwk_of(key)}).encode())
    pl = b64(json.dumps(payload).encode())
    r, s = decode_dss_signature(key.sign((p + "." + pl).encode(),
                                         ec.ECDSA(hashes.SHA256())))
    body = {"protected": p, "payload": pl,
            "signature": b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}
    st, h, b = request("POST", D["newAccount"], json.dumps(body).encode())
    try:
        typ = json.loads(b).get("type", "")
    except ValueError:
        typ = ""
    return st, h.get("Location"), typ


def eab(key, alg="HS256", kid=KID, url=None, payload=None, mac_key=None,
        extra=None):
    prot = {"alg": alg, "kid": kid, "url": url or D["newAccount"]}
    prot.update(extra or {})
    p = b64(json.dumps(prot).encode())
    pl = b64(json.dumps(payload or jwk_of(key)).encode())
    md = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
          "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
    mac = hmac.new(mac_key or ub64(HKEY), (p + "." + pl).encode(), md)
    return {"protected": p, "payload": pl, "signature": b64(mac.digest())}


def acct(key, binding=None, **kw):
    payload = {"termsOfServiceAgreed": True}
    payload.update(kw)
    if binding is not None:
        payload["externalAccountBinding"] = binding
    return new_account(key, payload)


k1 = ec.generate_private_key(ec.SECP256R1())
k2 = ec.generate_private_key(ec.SECP256R1())
ok(D["meta"].get("externalAccountRequired") is True,
   "directory meta: externalAccountRequired true")
st, _, t = acct(k1)
ok(st == 401 and t == ERR + "externalAccountRequired",
   "newAccount without a binding: externalAccountRequired")
st, _, t = acct(k1, onlyReturnExisting=True)
ok(st == 400 and t == ERR + "accountDoesNotExist",
   "onlyReturnExisting needs no binding: accountDoesNotExist")
for what, b in (
        ("alg ES256", eab(k1, alg="ES256")),
        ("alg none", eab(k1, alg="none")),
        ("url of another resource", eab(k1, url=D["newOrder"])),
        ("a nonce in the header", eab(k1, extra={"nonce": "abc"})),
        ("no kid", eab(k1, kid=None)),
        ("payload another key", eab(k1, payload=jwk_of(k2))),
        ("not a JWS", {"protected": "e30"})):
    st, _, t = acct(k1, b)
    ok(st == 400 and t == ERR + "malformed", "binding with %s: malformed"
       % what)
st, _, t = acct(k1, eab(k1, mac_key=b"\x00" * 32))
ok(st == 403 and t == ERR + "unauthorized", "wrong MAC key: unauthorized")
st, _, t = acct(k1, eab(k1, kid="AAAAAAAAAAAAAAAAAAAAAA"))
ok(st == 403 and t == ERR + "unauthorized", "unknown key id: unauthorized")
# RFC 7518 §3.2: HS512 needs a key of at least 64 bytes; ours has 32
st, _, t = acct(k1, eab(k1, alg="HS512"))
ok(st == 403 and t == ERR + "unauthorized",
   "HS512 with the 256-bit key: unauthorized (RFC 7518 §3.2)")
st, loc1, t = acct(k1, eab(k1))
ok(st == 201 and loc1, "a good binding: 201, account created")
st, loc, t = acct(k1, eab(k1))
ok(st == 200 and loc == loc1, "newAccount again with its key: 200, the "
   "same account")
st, _, t = acct(k2, eab(k2))
ok(st == 403 and t == ERR + "unauthorized",
   "the key bound to another account: unauthorized")
sys.exit(1 if FAILS else 0)
