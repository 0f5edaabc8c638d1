#!/usr/bin/python3
"""Independent DSSE / Ed25519 vectors for tests/leaderboard/test_dsse.c.

Made with the Python `cryptography` package (Debian: python3-cryptography) and the
standard library, not with libsodium, so the C code is checked against another
implementation of the same specifications (DSSE protocol v1, RFC 8032 Ed25519,
RFC 4648 base64, FIPS 180-4 SHA-256).

    /usr/bin/python3 tests/leaderboard/gen_dsse_vectors.py > tests/leaderboard/dsse_vectors.txt

Output: one `name value` pair per line; binary values in lowercase hex.
"""
import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def pae(payload_type: bytes, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def main():
    seed = bytes(range(32))
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    payload_type = b"application/vnd.tinytorch.submission+json"
    # Bytes that need every base64 alphabet difference (+ / vs - _) and padding.
    body = b'{"schema":"tito-submission/1","note":"\xc3\xa9t\xc3\xa9 ~~~ ???>>>"}'
    message = pae(payload_type, body)
    signature = key.sign(message)
    print("seed", seed.hex())
    print("public_key", public.hex())
    print("key_id", hashlib.sha256(public).hexdigest())
    print("payload_type", payload_type.decode())
    print("payload", body.hex())
    print("pae", message.hex())
    print("signature", signature.hex())
    print("payload_b64_std", base64.standard_b64encode(body).decode())
    print("payload_b64_url", base64.urlsafe_b64encode(body).decode())
    print("payload_b64_url_nopad", base64.urlsafe_b64encode(body).decode().rstrip("="))
    print("payload_b64_std_nopad", base64.standard_b64encode(body).decode().rstrip("="))
    print("sig_b64_std", base64.standard_b64encode(signature).decode())
    # The specification's own example (protocol.md): PAE of a known type and body.
    print("spec_pae", pae(b"http://example.com/HelloWorld", b"hello world").hex())


if __name__ == "__main__":
    main()
