#!/usr/bin/env python3
"""acme_client.py - a small RFC 8555 client written for t_acme_protocol.sh.

Speaks the protocol directly (flattened JWS, ES256 account keys, POST-as-GET)
so that the test can send what real clients never do: bad and reused
nonces, a wrong url, kid and jwk together, unknown and deactivated
accounts, finalize before ready, oversized and malformed bodies.  Prints
one "ok - ..." or "FAIL - ..." line per check.

usage: acme_client.py DIRECTORY_URL CA_FILE HTTP01_PORT
"""
import base64
import hashlib
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)
from cryptography.x509.oid import NameOID

DIR, CAFILE, HPORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
CTX = ssl.create_default_context(cafile=CAFILE)
ERR = "urn:ietf:params:acme:error:"
FAILS = 0


def ok(cond, what):
    global FAILS
    if cond:
        print("ok - " + what)
    else:
        FAILS += 1
        print("FAIL - " + what)
    sys.stdout.flush()


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ub64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def problem(self):
        j = self.json()
        return j.get("type", "") if isinstance(j, dict) else ""


def request(method, url, body=None, ctype="application/jose+json"):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def jwk_of(key):
    n = key.public_key().public_numbers()
    return {"crv": "P-256", "kty": "EC",
            "x": b64(n.x.to_bytes(32, "big")),
            "y": b64(n.y.to_bytes(32, "big"))}


def thumbprint(key):
    j = json.dumps(jwk_of(key), sort_keys=True, separators=(",", ":"))
    return b64(hashlib.sha256(j.encode()).digest())


def sign(key, protected, payload):
    p = b64(json.dumps(protected).encode())
    pl = "" if payload is None else b64(json.dumps(payload).encode())
    der = key.sign((p + "." + pl).encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return {"protected": p, "payload": pl, "signature": b64(sig)}


D = request("GET", DIR).json()


def nonce():
    return request("HEAD", D["newNonce"]).headers["Replay-Nonce"]


def post(url, payload, key, kid=None, jwk=False, n=None, hurl=None,
         extra=None):
    prot = {"alg": "ES256", "nonce": n if n is not None else nonce(),
            "url": hurl if hurl is not None else url}
    if kid is not None:
        prot["kid"] = kid
    if jwk or kid is None:
        prot["jwk"] = jwk_of(key)
    if extra:
        prot.update(extra)
    return request("POST", url, json.dumps(sign(key, prot, payload))
                   .encode())


def new_account(key):
    r = post(D["newAccount"], {"termsOfServiceAgreed": True,
                               "contact": ["mailto:ops@example.org"]}, key)
    return r, r.headers.get("Location")


# ---- directory and nonces ------------------------------------------------
ok(all(k in D for k in ("newNonce", "newAccount", "newOrder", "revokeCert",
                        "keyChange", "renewalInfo", "meta")),
   "directory lists every resource, renewalInfo and meta")
r = request("GET", D["newNonce"])
ok(r.status == 204 and r.headers.get("Replay-Nonce"),
   "GET newNonce: 204 with Replay-Nonce")
r = request("HEAD", D["newNonce"])
ok(r.status == 200 and r.headers.get("Replay-Nonce"),
   "HEAD newNonce: 200 with Replay-Nonce")

# ---- accounts ------------------------------------------------------------
k1 = ec.generate_private_key(ec.SECP256R1())
r, kid1 = new_account(k1)
ok(r.status == 201 and kid1 and r.json()["status"] == "valid",
   "newAccount: 201, Location, valid")
ok(r.headers.get("Replay-Nonce") is not None, "newAccount has Replay-Nonce")
r, again = new_account(k1)
ok(r.status == 200 and again == kid1, "newAccount with the same key: 200, "
   "same account")
k9 = ec.generate_private_key(ec.SECP256R1())
r = post(D["newAccount"], {"onlyReturnExisting": True}, k9)
ok(r.status == 400 and r.problem() == ERR + "accountDoesNotExist",
   "onlyReturnExisting for an unknown key: accountDoesNotExist")
r = post(D["newAccount"], {"externalAccountBinding": {"protected": "x"}}, k9)
ok(r.status == 400 and r.problem() == ERR + "malformed",
   "a malformed externalAccountBinding: malformed")
r = post(D["newAccount"], {"contact": ["tel:+1555"]}, k9)
ok(r.problem() == ERR + "unsupportedContact",
   "tel: contact: unsupportedContact")

# ---- JWS envelope negatives (RFC 8555 §6.2-6.5) --------------------------
r = post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "x.test"}]},
         k1, kid=kid1, n="bm90LWEtbm9uY2U")
ok(r.status == 400 and r.problem() == ERR + "badNonce" and
   r.headers.get("Replay-Nonce"), "bad nonce: badNonce with a fresh nonce")
n1 = nonce()
r = post(kid1, None, k1, kid=kid1, n=n1)
ok(r.status == 200, "POST-as-GET account with a fresh nonce")
r = post(kid1, None, k1, kid=kid1, n=n1)
ok(r.status == 400 and r.problem() == ERR + "badNonce",
   "reused nonce: badNonce")
r = post(kid1, None, k1, kid=kid1, hurl=D["newOrder"])
ok(r.status == 403 and r.problem() == ERR + "unauthorized",
   "url header differs from the request URL: unauthorized")
r = post(kid1, None, k1, kid=kid1, jwk=True)
ok(r.status == 400 and r.problem() == ERR + "malformed",
   "kid and jwk both present: malformed")
r = post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "x.test"}]},
         k1)
ok(r.status == 400 and r.problem() == ERR + "malformed",
   "jwk on newOrder: malformed")
unknown = kid1.rsplit("/", 1)[0] + "/AAAAAAAAAAAAAAAAAAAAAA"
r = post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "x.test"}]},
         k1, kid=unknown)
ok(r.status == 400 and r.problem() == ERR + "accountDoesNotExist",
   "unknown account: accountDoesNotExist")
r = post(kid1, None, k9, kid=kid1)
ok(r.status == 400 and r.problem() == ERR + "malformed",
   "signature by another key: malformed")
r = post(kid1, None, k1, kid=kid1, extra={"alg": "HS256"})
ok(r.status == 400 and r.problem() == ERR + "badSignatureAlgorithm",
   "alg HS256: badSignatureAlgorithm")
r = post(kid1, None, k1, kid=kid1, extra={"alg": "none"})
ok(r.status == 400 and r.problem() == ERR + "badSignatureAlgorithm",
   "alg none: badSignatureAlgorithm")
for body, what in ((b"{not json", "not JSON"),
                   (b'{"protected":"e30","payload":"","signature":"AA",'
                    b'"header":{}}', "unprotected header"),
                   (b'{"protected":"!!","payload":"","signature":"AA"}',
                    "not base64url"),
                   (b'["protected"]', "an array")):
    r = request("POST", kid1, body)
    ok(r.status == 400 and r.problem() == ERR + "malformed" and
       r.headers.get("Replay-Nonce"), "malformed JWS (%s): malformed" % what)
r = request("POST", kid1, json.dumps({"protected": "e30", "payload":
                                      "A" * 40000, "signature": "AA"})
            .encode())
ok(r.status == 413 and r.problem() == ERR + "malformed",
   "oversized JWS (40 kB): malformed, 413")
r = request("POST", kid1, b"{" + b" " * 70000 + b"}")
ok(r.status == 413 and r.problem() == ERR + "malformed",
   "body over the server limit (70 kB): 413")
r = request("POST", kid1, json.dumps(sign(k1, {"alg": "ES256", "nonce":
                                               nonce(), "url": kid1,
                                               "kid": kid1}, None))
            .encode(), ctype="application/json")
ok(r.status == 415 and r.problem() == ERR + "malformed",
   "Content-Type application/json: 415")
r = request("GET", kid1)
ok(r.status == 405, "GET on an account: 405 (POST-as-GET)")

# ---- orders --------------------------------------------------------------
r = post(D["newOrder"], {"identifiers": [{"type": "dns",
                                          "value": "*.wild.test"}]},
         k1, kid=kid1)
ok(r.problem() == ERR + "rejectedIdentifier",
   "wildcard with http-01 only: rejectedIdentifier")
r = post(D["newOrder"], {"identifiers": [{"type": "email",
                                          "value": "a@b.test"}]},
         k1, kid=kid1)
ok(r.problem() == ERR + "unsupportedIdentifier",
   "email identifier: unsupportedIdentifier")
r = post(D["newOrder"], {"identifiers": [{"type": "dns",
                                          "value": "bad name.test"}]},
         k1, kid=kid1)
ok(r.problem() == ERR + "rejectedIdentifier",
   "invalid dns name: rejectedIdentifier")
r = post(D["newOrder"], {"identifiers": [
    {"type": "dns", "value": "proto.test"},
    {"type": "ip", "value": "127.0.0.1"}]}, k1, kid=kid1)
ok(r.status == 201 and r.json()["status"] == "pending" and
   len(r.json()["authorizations"]) == 2, "newOrder dns+ip: 201, pending, "
   "two authorizations")
order_url = r.headers["Location"]
order = r.json()
csr_key = ec.generate_private_key(ec.SECP256R1())


def csr_der(key, names, ips=()):
    import ipaddress
    sans = [x509.DNSName(n) for n in names] + \
        [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([])).add_extension(x509.SubjectAlternativeName(sans),
                                     critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


r = post(order["finalize"], {"csr": b64(csr_der(csr_key, ["proto.test"],
                                                ["127.0.0.1"]))},
         k1, kid=kid1)
ok(r.status == 403 and r.problem() == ERR + "orderNotReady",
   "finalize before ready: orderNotReady")

# another account cannot see the order
k2 = ec.generate_private_key(ec.SECP256R1())
r, kid2 = new_account(k2)
r = post(order_url, None, k2, kid=kid2)
ok(r.status == 404, "another account's order: 404")

# ---- http-01 -------------------------------------------------------------
answers = {}


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        tok = self.path.rsplit("/", 1)[-1]
        if tok in answers:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(answers[tok].encode())
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", HPORT), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()


def solve(authz_url, key, kid, answer=True):
    a = post(authz_url, None, key, kid=kid).json()
    ch = [c for c in a["challenges"] if c["type"] == "http-01"][0]
    if answer:
        answers[ch["token"]] = ch["token"] + "." + thumbprint(key)
    else:
        answers[ch["token"]] = ch["token"] + ".wrong"
    r = post(ch["url"], {}, key, kid=kid)
    return r, ch


def wait(url, key, kid, until=("valid", "invalid", "ready")):
    for _ in range(100):
        j = post(url, None, key, kid=kid).json()
        if j["status"] in until:
            return j
        time.sleep(0.1)
    return j


for az in order["authorizations"]:
    r, ch = solve(az, k1, kid1)
    ok(r.status == 200 and any('rel="up"' in v for v in
                               r.headers.get_all("Link")),
       "challenge POST: 200 with Link rel=up")
    a = wait(az, k1, kid1)
    ok(a["status"] == "valid", "authorization valid after http-01")
o = wait(order_url, k1, kid1)
ok(o["status"] == "ready", "order ready once every authorization is valid")

r = post(order["finalize"], {"csr": b64(csr_der(csr_key, ["other.test"],
                                                ["127.0.0.1"]))},
         k1, kid=kid1)
ok(r.problem() == ERR + "badCSR", "CSR names differ from the order: badCSR")
r = post(order["finalize"], {"csr": b64(csr_der(k1, ["proto.test"],
                                                ["127.0.0.1"]))},
         k1, kid=kid1)
ok(r.problem() == ERR + "badCSR", "CSR with the account key: badCSR")
r = post(order["finalize"], {"csr": b64(b"\x30\x03\x02\x01\x00")},
         k1, kid=kid1)
ok(r.problem() == ERR + "badCSR", "undecodable CSR: badCSR")

# two concurrent finalizes: one certificate
good = {"csr": b64(csr_der(csr_key, ["proto.test"], ["127.0.0.1"]))}
nonces = [nonce(), nonce()]
results = [None, None]


def fin(i):
    results[i] = post(order["finalize"], good, k1, kid=kid1, n=nonces[i])


ts = [threading.Thread(target=fin, args=(i,)) for i in (0, 1)]
for t in ts:
    t.start()
for t in ts:
    t.join()
st = sorted(x.status for x in results)
ok(st == [200, 403] and [x for x in results if x.status == 403][0]
   .problem() == ERR + "orderNotReady",
   "two concurrent finalizes: one 200, one orderNotReady")
o = wait(order_url, k1, kid1, until=("valid", "invalid"))
ok(o["status"] == "valid" and "certificate" in o,
   "order valid with a certificate URL")
r = post(o["certificate"], None, k1, kid=kid1)
ok(r.status == 200 and r.headers.get("Content-Type", "").startswith(
    "application/pem-certificate-chain") and
   r.body.count(b"BEGIN CERTIFICATE") == 2,
   "certificate: PEM chain (leaf + intermediate)")
with open(os.path.join(os.environ.get("T", "/tmp"), "proto-chain.pem"),
          "wb") as f:
    f.write(r.body)
leaf = x509.load_pem_x509_certificate(r.body)
r = post(kid1 + "/orders", None, k1, kid=kid1)
ok(r.status == 200 and order_url in r.json()["orders"],
   "orders list has the order")

# RFC 9773 renewalInfo
aki = leaf.extensions.get_extension_for_class(
    x509.AuthorityKeyIdentifier).value.key_identifier
ser = leaf.serial_number.to_bytes((leaf.serial_number.bit_length() + 8) // 8,
                                  "big")
r = request("GET", D["renewalInfo"] + "/" + b64(aki) + "." + b64(ser))
ok(r.status == 200 and "suggestedWindow" in r.json() and
   r.headers.get("Retry-After") == "21600",
   "renewalInfo: suggestedWindow, Retry-After")
w = r.json()["suggestedWindow"]
ok(w["start"] < w["end"] and leaf.not_valid_before.strftime("%Y-%m-%d") <=
   w["start"][:10], "renewalInfo: a window inside the lifetime")
for cid, what, st in (
        (b64(aki) + "." + b64(b"\x7f" * 20), "unknown serial", 404),
        (b64(b"\x01" * 20) + "." + b64(ser), "another issuer's AKI", 404),
        ("abc", "no dot", 400),
        (b64(aki) + "." + b64(ser) + ".x", "two dots", 400),
        ("." + b64(ser), "empty AKI", 400),
        (b64(aki) + ".!!", "serial not base64url", 400),
        (b64(aki) + "." + b64(b"\x80\x01"), "negative serial", 400),
        (b64(aki) + "." + b64(b"\x00\x01"), "non-minimal serial", 400),
        (b64(aki) + "." + b64(b"\x01" * 21), "serial over 20 octets", 400),
        ("A" * 200 + "." + b64(ser), "certID too long", 400)):
    r = request("GET", D["renewalInfo"] + "/" + cid)
    ok(r.status == st and r.problem() == ERR + "malformed",
       "renewalInfo, %s: %d malformed" % (what, st))

# RFC 9773 §5: a new order that replaces the certificate
cid = b64(aki) + "." + b64(ser)
ids = [{"type": "dns", "value": "proto.test"}]
for body, key, kid, st, typ, what in (
        ({"identifiers": ids, "replaces": "abc"}, k1, kid1, 400,
         "malformed", "replaces not a certID"),
        ({"identifiers": ids, "replaces": b64(aki) + "." +
          b64(b"\x7f" * 20)}, k1, kid1, 400, "malformed",
         "replaces an unknown certificate"),
        ({"identifiers": [{"type": "dns", "value": "unrelated.test"}],
          "replaces": cid}, k1, kid1, 400, "malformed",
         "replaces with no shared identifier"),
        ({"identifiers": ids, "replaces": cid}, k2, kid2, 403,
         "unauthorized", "replaces another account's certificate")):
    r = post(D["newOrder"], body, key, kid=kid)
    ok(r.status == st and r.problem() == ERR + typ,
       "newOrder, %s: %d %s (got %d %s)" % (what, st, typ, r.status,
                                            r.problem()))
r = post(D["newOrder"], {"identifiers": ids, "replaces": cid}, k1, kid=kid1)
ok(r.status == 201 and r.json().get("replaces") == cid,
   "newOrder replaces the certificate: 201, the order names it")
r = post(r.headers["Location"], None, k1, kid=kid1)
ok(r.json().get("replaces") == cid, "... and still does when fetched")
r = post(D["newOrder"], {"identifiers": ids, "replaces": cid}, k1, kid=kid1)
ok(r.status == 409 and r.problem() == ERR + "alreadyReplaced",
   "a second order replacing it: 409 alreadyReplaced")

# failed validation makes the order invalid
r = post(D["newOrder"], {"identifiers": [{"type": "dns",
                                          "value": "wrong.test"}]},
         k1, kid=kid1)
o2_url = r.headers["Location"]
r, ch = solve(r.json()["authorizations"][0], k1, kid1, answer=False)
o2 = wait(o2_url, k1, kid1, until=("invalid", "valid", "ready"))
ok(o2["status"] == "invalid", "wrong key authorization: order invalid")
c = post(ch["url"], None, k1, kid=kid1).json()
ok(c["status"] == "invalid" and c["error"]["type"] ==
   ERR + "incorrectResponse", "challenge error incorrectResponse")
r = post(D["newOrder"], {"identifiers": [{"type": "dns",
                                          "value": "nobody.test"}]},
         k1, kid=kid1)
o3_url = r.headers["Location"]
a3 = post(r.json()["authorizations"][0], None, k1, kid=kid1).json()
ch3 = a3["challenges"][0]
post(ch3["url"], {}, k1, kid=kid1)
wait(o3_url, k1, kid1, until=("invalid", "valid", "ready"))
c = post(ch3["url"], None, k1, kid=kid1).json()
ok(c["status"] == "invalid" and c["error"]["type"] == ERR + "unauthorized",
   "no answer (404): unauthorized")

# ---- revocation by the certificate key, then again --------------------
crt = b64(leaf.public_bytes(serialization.Encoding.DER))
r = post(D["revokeCert"], {"certificate": crt}, k2, kid=kid2)
ok(r.status == 403 and r.problem() == ERR + "unauthorized",
   "revokeCert by another account: unauthorized")
r = post(D["revokeCert"], {"certificate": crt, "reason": 7}, csr_key)
ok(r.problem() == ERR + "badRevocationReason",
   "reason 7: badRevocationReason")
r = post(D["revokeCert"], {"certificate": crt, "reason": 1}, csr_key)
ok(r.status == 200, "revokeCert signed by the certificate key: 200")
r = post(D["revokeCert"], {"certificate": crt}, k1, kid=kid1)
ok(r.problem() == ERR + "alreadyRevoked", "second revoke: alreadyRevoked")
r = request("GET", D["renewalInfo"] + "/" + b64(aki) + "." + b64(ser))
ok(r.status == 200 and r.json()["suggestedWindow"]["end"] <=
   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5)) and
   r.headers.get("Retry-After") == "60",
   "renewalInfo of a revoked certificate: renew now, Retry-After 60")

# ---- key rollover (RFC 8555 §7.3.5) -------------------------------------
knew = ec.generate_private_key(ec.SECP256R1())
inner = sign(knew, {"alg": "ES256", "jwk": jwk_of(knew),
                    "url": D["keyChange"]},
             {"account": kid1, "oldKey": jwk_of(k1)})
r = post(D["keyChange"], inner, k1, kid=kid1)
ok(r.status == 200, "keyChange: 200")
r = post(kid1, None, k1, kid=kid1)
ok(r.problem() == ERR + "malformed", "old key no longer signs for the "
   "account")
r = post(kid1, None, knew, kid=kid1)
ok(r.status == 200, "new key signs for the account")
inner = sign(k2, {"alg": "ES256", "jwk": jwk_of(k2), "url": D["keyChange"]},
             {"account": kid1, "oldKey": jwk_of(knew)})
r = post(D["keyChange"], inner, knew, kid=kid1)
ok(r.status == 409 and r.headers.get("Location") == kid2,
   "keyChange to another account's key: 409 with its Location")

# ---- deactivation --------------------------------------------------------
r = post(kid2, {"status": "deactivated"}, k2, kid=kid2)
ok(r.status == 200 and r.json()["status"] == "deactivated",
   "account deactivation")
r = post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "d.test"}]},
         k2, kid=kid2)
ok(r.status == 403 and r.problem() == ERR + "unauthorized",
   "deactivated account: unauthorized")
r, _ = new_account(k2)
ok(r.status == 403 and r.problem() == ERR + "unauthorized",
   "newAccount with a deactivated account's key: unauthorized")

srv.shutdown()
sys.exit(1 if FAILS else 0)
