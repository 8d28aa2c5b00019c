"""Keyed hashes of child identifiers (HMAC-SHA256), computed inside PostgreSQL.

The SQL function landing.keyed_hash(value, inner_key, outer_key) is HMAC built from sha256():
we hand it the key already padded and XORed with ipad/opad, so the secret itself never appears
in a query and no database extension is needed.
"""

from __future__ import annotations

import hashlib
import hmac

_BLOCK = 64  # SHA-256 block size in bytes


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(K xor ipad, K xor opad) as RFC 2104 defines them for SHA-256."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def keyed_hash(value: str, key: bytes) -> str:
    """The same hash in Python, for tests and for hashing a single identifier."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def child_identity(authority_gss: str, child: str) -> str:
    """CHILD ids are only unique within an authority, so the authority is part of what is hashed."""
    return f"{authority_gss}:{child}"
