"""TOTP secrets at rest: sealed under the TOTP key, which is never in the database.

A copy of the database alone then gives no one the means to produce a staff member's
two-step codes. Each stored value is `t1.` + base64url(nonce | AES-256-GCM ciphertext), the AES
key derived from the TOTP key with HKDF-SHA256, the user's id bound as associated data so a
value copied onto another account does not open. A value without the prefix is a secret stored
before sealing existed: it still works, and is sealed the next time it is used.
"""

from __future__ import annotations

import base64
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "t1."
NONCE_BYTES = 12
# "t1." + base64url of nonce, a 32-character base32 secret and the tag: 83 characters.
STORED_LENGTH = 128


class TotpSecretUnreadable(Exception):
    def __init__(self) -> None:
        super().__init__(
            "this account's two-step secret does not open with this server's TOTP key; restore "
            'the key from the backup (README, "Keys outside the database") or reset the '
            "account's two-step sign-in"
        )


@cache
def _aead(totp_key: str) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"survey-app totp secrets v1"
    ).derive(totp_key.encode("utf-8"))
    return AESGCM(derived)


def _bound_to(user_id: int) -> bytes:
    return f"users.totp_secret:{user_id}".encode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(totp_key: str, user_id: int, secret: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = _aead(totp_key).encrypt(nonce, secret.encode("ascii"), _bound_to(user_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + ciphertext).decode("ascii")


def open_secret(totp_key: str, user_id: int, stored: str) -> str:
    """The secret a stored value holds (a value stored before sealing is the secret itself)."""
    if not is_sealed(stored):
        return stored
    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode("ascii"))
        plain = _aead(totp_key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound_to(user_id))
    except (InvalidTag, ValueError):
        raise TotpSecretUnreadable() from None
    return plain.decode("ascii")
