#!/usr/bin/env python3
"""audit_export_check.py FILE [--trust-key HEX]... — checks a `pitboss audit export`
without pitboss, from docs/audit-format.md alone: the role a regulator's own tool plays.

Checks the header, that entry lines carry consecutive seqs each linking to the
previous line's hash, every entry's hash recomputed from its exported fields,
and for every checkpoint: its key id is its public key's fingerprint, the key is
listed in the header (and, with --trust-key, is one of those keys), its Ed25519
signature verifies, and its head_hash is the hash of the entry it names when that
entry is in the export. Signatures are checked with the `cryptography` package
when it is installed, else with the `openssl` command, else in pure Python.

Prints "ok: N entries, M checkpoints (signatures: METHOD)" and exits 0, or prints
"FAIL: reason" and exits 1."""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid

ENTRY_TAG = b"pitboss.audit.entry.v1"
CHECKPOINT_TAG = b"pitboss.audit.checkpoint.v1"
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def i64(v):
    return struct.pack("<q", v)


def text(s):
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def opt(s):
    return b"\x00" if s is None else b"\x01" + text(s)


def entry_hash(e, prev):
    m = (ENTRY_TAG + prev + i64(e["seq"]) + uuid.UUID(e["id"]).bytes + i64(e["at_us"])
         + text(e["actor_kind"]) + text(e["actor_id"]) + text(e["actor_email"]) + text(e["role"])
         + opt(e["brand"]) + text(e["action"]) + text(e["target_kind"]) + text(e["target_id"])
         + opt(e["before"]) + opt(e["after"]) + text(e["reason"]) + text(e["trace_id"])
         + text(e["ip"]))
    return hashlib.sha256(m).digest()


def checkpoint_message(c):
    return (CHECKPOINT_TAG + i64(c["id"]) + i64(c["upto_seq"]) + bytes.fromhex(c["head_hash"])
            + i64(c["at_us"]) + text(c["key_id"]))


# Ed25519 verification in pure Python (RFC 8032, section 6), the last resort: slow but
# needs nothing beyond the standard library.
P = 2 ** 255 - 19
Q = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c, d = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f, g * h, f * g, e * h)


def _mul(s, pt):
    r = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            r = _add(r, pt)
        pt, s = _add(pt, pt), s >> 1
    return r


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


def _decompress(b):
    y = int.from_bytes(b, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify_pure(pk, msg, sig):
    a, r = _decompress(pk), _decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if a is None or r is None or s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pk + msg).digest(), "little") % Q
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


def signature_checker():
    """A function (public_key, message, signature) -> bool, and its name."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        def check(pk, msg, sig):
            try:
                Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
                return True
            except InvalidSignature:
                return False
        return check, "cryptography"
    except ImportError:
        pass
    if shutil.which("openssl"):
        def check(pk, msg, sig):
            with tempfile.TemporaryDirectory() as d:
                paths = {n: os.path.join(d, n) for n in ("pub.der", "msg", "sig")}
                for name, data in (("pub.der", ED25519_SPKI_PREFIX + pk), ("msg", msg), ("sig", sig)):
                    with open(paths[name], "wb") as f:
                        f.write(data)
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER",
                                    "-inkey", paths["pub.der"], "-rawin", "-in", paths["msg"],
                                    "-sigfile", paths["sig"]], capture_output=True)
                return r.returncode == 0
        return check, "openssl"
    return ed25519_verify_pure, "pure python"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    if not args:
        fail("usage: audit_export_check.py FILE [--trust-key HEX]...")
    path, trusted = args[0], set()
    for i in range(1, len(args), 2):
        if args[i] != "--trust-key" or i + 1 >= len(args):
            fail("unknown argument " + args[i])
        trusted.add(args[i + 1].lower())
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(l) for l in f if l.strip()]
    if not lines or lines[0].get("format") != "pitboss-audit-v1":
        fail("no pitboss-audit-v1 header")
    header, body = lines[0], lines[1:]
    if header.get("hash") != "sha256" or header.get("signature") != "ed25519":
        fail("unexpected algorithms in the header")
    listed = {k["public_key"] for k in header["public_keys"]}
    hashes, prev, last_seq, entries = {}, None, None, 0
    check, method = signature_checker()
    checkpoints = 0
    for rec in body:
        if rec.get("type") == "entry":
            if checkpoints:
                fail("entry seq %d after a checkpoint line" % rec["seq"])
            p = bytes.fromhex(rec["prev_hash"])
            if last_seq is not None and (rec["seq"] != last_seq + 1 or p != prev):
                fail("entry seq %d does not follow seq %d" % (rec["seq"], last_seq))
            h = entry_hash(rec, p)
            if h.hex() != rec["hash"]:
                fail("entry seq %d: hash mismatch" % rec["seq"])
            hashes[rec["seq"]] = rec["hash"]
            prev, last_seq = h, rec["seq"]
            entries += 1
        elif rec.get("type") == "checkpoint":
            pk = bytes.fromhex(rec["public_key"])
            if hashlib.sha256(pk).digest()[:8].hex() != rec["key_id"]:
                fail("checkpoint %d: key_id is not the public key's fingerprint" % rec["id"])
            if rec["public_key"] not in listed:
                fail("checkpoint %d: its public key is not in the header" % rec["id"])
            if trusted and rec["public_key"] not in trusted:
                fail("checkpoint %d: untrusted key %s" % (rec["id"], rec["key_id"]))
            if not check(pk, checkpoint_message(rec), bytes.fromhex(rec["signature"])):
                fail("checkpoint %d: bad signature" % rec["id"])
            if rec["upto_seq"] in hashes and hashes[rec["upto_seq"]] != rec["head_hash"]:
                fail("checkpoint %d: entry seq %d differs from the signed head"
                     % (rec["id"], rec["upto_seq"]))
            checkpoints += 1
        else:
            fail("unknown line type %r" % rec.get("type"))
    print("ok: %d entries, %d checkpoints (signatures: %s)" % (entries, checkpoints, method))


if __name__ == "__main__":
    main()
