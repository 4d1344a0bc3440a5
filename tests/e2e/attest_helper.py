#!/usr/bin/env python3
"""attest_helper.py - the client half of step's attestation protocol for
the end-to-end tests, from tpm2-tools outputs (spec/attestation.md §2.2-2.4).

  attest_helper.py body --ek EK.der [--ek-cert CERT.der ...] --pub AK.pub
      --cdata AK.cdata --attest AK.attest --sig AK.sig
      [--manufacturer 1229081856 --model swtpm --firmware 2.0]
      [--tamper-sig] [--tcsd]
    Prints the /attest JSON body exactly as step's client builds it:
    standard padded base64, TPMT_PUBLIC and TPMS_CREATION_DATA without the
    TPM2B size prefix tpm2-tools writes, omitempty members left out.

  attest_helper.py credential RESPONSE.json OUT
    Writes the /attest answer as tpm2_activatecredential's input file:
    0xBADCC0DE, version 1, then credential and secret as sent (each a
    TPM2B, size prefix included, spec §2.3).

  attest_helper.py secret SECRET.bin
    Prints the /secret body {"secret": base64}.

  attest_helper.py chain RESPONSE.json DIR
    Writes each element of the /secret answer's chain as DIR/<i>.pem and
    prints how many.
"""
import argparse
import base64
import json
import struct
import sys


def b64(data):
    return base64.b64encode(data).decode("ascii")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def strip_tpm2b(data, what):
    """TPM2B -> contents; the size must account for every byte."""
    if len(data) < 2:
        sys.exit(f"{what}: too short for a TPM2B")
    (size,) = struct.unpack(">H", data[:2])
    if size != len(data) - 2:
        sys.exit(f"{what}: TPM2B size {size} != {len(data) - 2}")
    return data[2:]


def cmd_body(a):
    sig = bytearray(read(a.sig))
    if a.tamper_sig:
        sig[-1] ^= 0x01
    params = {
        "public": b64(strip_tpm2b(read(a.pub), "AK public")),
        "createData": b64(strip_tpm2b(read(a.cdata), "creation data")),
        "createAttestation": b64(read(a.attest)),
        "createSignature": b64(bytes(sig)),
    }
    if a.tcsd:
        params["useTCSDActivationFormat"] = True
    info = {"version": 2}
    if a.manufacturer:
        info["manufacturer"] = a.manufacturer
    if a.model:
        info["model"] = a.model
    if a.firmware:
        info["firmwareVersion"] = a.firmware
    body = {"tpmInfo": info, "ek": b64(read(a.ek))}
    certs = [b64(read(p)) for p in a.ek_cert or []]
    if certs:
        body["ekCerts"] = certs
    body["params"] = params
    json.dump(body, sys.stdout)


def cmd_credential(a):
    with open(a.response) as f:
        r = json.load(f)
    cred = base64.b64decode(r["credential"], validate=True)
    sec = base64.b64decode(r["secret"], validate=True)
    strip_tpm2b(cred, "credential")
    strip_tpm2b(sec, "secret")
    with open(a.out, "wb") as f:
        f.write(struct.pack(">II", 0xBADCC0DE, 1) + cred + sec)


def cmd_secret(a):
    json.dump({"secret": b64(read(a.secret))}, sys.stdout)


def cmd_chain(a):
    with open(a.response) as f:
        r = json.load(f)
    chain = r["chain"]
    for i, c in enumerate(chain):
        der = base64.b64decode(c, validate=True)
        pem = base64.encodebytes(der).decode("ascii").replace("\n", "")
        lines = [pem[j:j + 64] for j in range(0, len(pem), 64)]
        with open(f"{a.dir}/{i}.pem", "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\n")
            f.write("\n".join(lines) + "\n")
            f.write("-----END CERTIFICATE-----\n")
    print(len(chain))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("body")
    b.add_argument("--ek", required=True)
    b.add_argument("--ek-cert", action="append")
    b.add_argument("--pub", required=True)
    b.add_argument("--cdata", required=True)
    b.add_argument("--attest", required=True)
    b.add_argument("--sig", required=True)
    b.add_argument("--manufacturer")
    b.add_argument("--model")
    b.add_argument("--firmware")
    b.add_argument("--tamper-sig", action="store_true")
    b.add_argument("--tcsd", action="store_true")
    c = sub.add_parser("credential")
    c.add_argument("response")
    c.add_argument("out")
    s = sub.add_parser("secret")
    s.add_argument("secret")
    h = sub.add_parser("chain")
    h.add_argument("response")
    h.add_argument("dir")
    a = p.parse_args()
    {"body": cmd_body, "credential": cmd_credential, "secret": cmd_secret,
     "chain": cmd_chain}[a.cmd](a)


if __name__ == "__main__":
    main()
