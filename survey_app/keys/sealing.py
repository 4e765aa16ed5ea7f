"""Sealed responses and key custody: the only module that touches keys.

Every response is sealed on arrival to the programme's X25519 public key. Opening needs the
private key, which is only ever stored wrapped by a passphrase. This module knows nothing of
Flask or the database: callers pass bytes and strings in and get bytes and strings out.

Response envelope, format version 1
-----------------------------------

A sealed blob is, byte for byte::

    offset  size  field
    0       1     format version, 0x01
    1       8     key id: SHA-256(recipient raw public key)[:8]
    9       32    ephemeral X25519 public key (raw)
    41      12    AES-GCM nonce (random)
    53      n+16  AES-256-GCM ciphertext of the n payload bytes, followed by the 16-byte tag

The first 53 bytes are the *header*. The shortest valid blob (empty payload) is 69 bytes.

Key agreement and key derivation::

    shared = X25519(ephemeral private, recipient public)
    key    = HKDF-SHA256(ikm=shared,
                         salt=ephemeral public (32) || recipient public (32),
                         info=b"survey-app response v1", length=32)

Associated data, which binds the blob to its row::

    ad = header (53 bytes) || field(response id) || field(survey id) || field(survey version)
    field(s) = len(UTF-8 of s) as 4-byte big-endian unsigned || UTF-8 of s

So a blob copied to another row, or with any header byte altered, fails to open.

A key id is shown to people as its 16 lowercase hex characters.

Response envelope, format version 2 (what `seal` writes today)
--------------------------------------------------------------

Byte for byte as version 1, with 0x02 as the version byte and
``info=b"survey-app response v2"`` in the HKDF, except that what is encrypted is the payload
*padded* to a length the caller chooses, so that a blob's length does not give away what the
payload holds (see `survey_app.keys.padding` for the lengths chosen)::

    plaintext = payload || 0x80 || 0x00 * k      (k >= 0; ISO/IEC 7816-4 padding)

Opening removes the trailing zeros and the one 0x80 byte; a plaintext without them fails as
`TamperedResponse`-like `MalformedEnvelope`. Version 1 blobs (no padding) still open. The fixed
vectors in ``tests/test_sealing.py`` pin both versions byte for byte.

Wrapped private key, wrap format version 1
------------------------------------------

``WrappedKey.wrapped_private`` is, byte for byte::

    offset  size  field
    0       1     wrap format version, 0x01
    1       1     KDF id: 0x01 = scrypt
    2       1     scrypt log2(N)
    3       1     scrypt r
    4       1     scrypt p
    5       16    KDF salt (random)
    21      12    AES-GCM nonce (random)
    33      48    AES-256-GCM ciphertext of the 32-byte raw X25519 private key, then the tag

    wrapping key = scrypt(NFC-normalised passphrase as UTF-8, salt, N, r, p, length=32)
    associated data = the 32-byte raw public key

The KDF parameters travel inside the blob, so the defaults can be raised later and old keys
still open; ``needs_rewrap`` tells whether a key was wrapped with weaker settings than today's.

Key file, for keys kept off the server
--------------------------------------

A UTF-8 JSON object with exactly these members (base64 is standard, padded)::

    {"format": "survey-app key file v1",
     "key_id": "<16 hex chars>",
     "public_key": "<base64 of 32 bytes>",
     "wrapped_private_key": "<base64 of the wrapped private key above>"}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..messages import N_, DomainError

FORMAT_VERSION: int = 2
# Every version `UnlockedKeys.open` reads.
READABLE_VERSIONS: Final = frozenset({1, 2})
WRAP_FORMAT_VERSION: Final = 1
KEY_FILE_FORMAT: Final = "survey-app key file v1"
MIN_PASSPHRASE_LENGTH: Final = 12

_HKDF_INFO: Final = {1: b"survey-app response v1", 2: b"survey-app response v2"}
_PAD_MARK: Final = b"\x80"
_KEY_ID_SIZE: Final = 8
_X25519_SIZE: Final = 32
_NONCE_SIZE: Final = 12
_TAG_SIZE: Final = 16
_HEADER_SIZE: Final = 1 + _KEY_ID_SIZE + _X25519_SIZE + _NONCE_SIZE
_MIN_BLOB_SIZE: Final = _HEADER_SIZE + _TAG_SIZE

_KDF_SCRYPT: Final = 1
_SALT_SIZE: Final = 16
_WRAP_PREFIX: Final = struct.Struct(">BBBBB")
_WRAPPED_SIZE: Final = _WRAP_PREFIX.size + _SALT_SIZE + _NONCE_SIZE + _X25519_SIZE + _TAG_SIZE
# A stored blob chooses its own scrypt cost; cap it so a corrupt or hostile blob cannot ask
# the server for more than 1 GiB of memory.
_MAX_SCRYPT_MEMORY: Final = 1 << 30


class SealingError(DomainError):
    """Base class for every failure to seal, open, wrap or unwrap."""


class WrongPassphrase(SealingError):
    """The passphrase does not open the wrapped private key."""


class WeakPassphrase(SealingError):
    """The new passphrase is too short to protect a private key."""


class TamperedResponse(SealingError):
    """The blob fails authentication: it was altered, or moved to another row."""


class UnknownKeyId(SealingError):
    """The blob is sealed to a key that is not among the unlocked keys."""


class MalformedEnvelope(SealingError):
    """The bytes are not a sealed response this version can read."""


class MalformedKey(SealingError):
    """A public or wrapped key is not well formed or does not match itself."""


class KeyFileError(SealingError):
    """The text is not a key file this version can read."""


class NoKeys(SealingError):
    """There are no keys to unlock."""


class KeysClosed(SealingError):
    """The unlocked keys were closed and can no longer open responses."""


@dataclass(frozen=True)
class ResponseBinding:
    """The row a sealed blob belongs to; authenticated but not encrypted."""

    response_id: str
    survey_id: str
    survey_version: str

    def encode(self) -> bytes:
        parts = []
        for value in (self.response_id, self.survey_id, self.survey_version):
            data = value.encode("utf-8")
            parts.append(len(data).to_bytes(4, "big"))
            parts.append(data)
        return b"".join(parts)


@dataclass(frozen=True)
class ScryptParams:
    log2_n: int
    r: int
    p: int

    def __post_init__(self) -> None:
        if not (1 <= self.log2_n <= 255 and 1 <= self.r <= 255 and 1 <= self.p <= 255):
            raise MalformedKey(f"scrypt parameters out of range: {self}")
        if 128 * self.r * (1 << self.log2_n) * self.p > _MAX_SCRYPT_MEMORY:
            raise MalformedKey(f"scrypt parameters would need more than 1 GiB of memory: {self}")

    def at_least(self, other: ScryptParams) -> bool:
        return self.log2_n >= other.log2_n and self.r >= other.r and self.p >= other.p


# n = 2**16 takes about 130 ms on the reference server; never go below MINIMUM_KDF.
DEFAULT_KDF: Final = ScryptParams(log2_n=16, r=8, p=1)
MINIMUM_KDF: Final = ScryptParams(log2_n=15, r=8, p=1)


def _key_id_bytes(public_raw: bytes) -> bytes:
    return hashlib.sha256(public_raw).digest()[:_KEY_ID_SIZE]


def key_id_for(public_raw: bytes) -> str:
    """The key id people see for a raw public key: 16 hex characters."""
    return _key_id_bytes(public_raw).hex()


def _check_public(key_id: str, public_raw: bytes) -> None:
    if len(public_raw) != _X25519_SIZE:
        raise MalformedKey(f"a public key is {_X25519_SIZE} bytes, not {len(public_raw)}")
    if key_id != key_id_for(public_raw):
        raise MalformedKey(f"key id {key_id!r} does not match its public key")


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    raw: bytes

    def __post_init__(self) -> None:
        _check_public(self.key_id, self.raw)


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    public_raw: bytes
    wrapped_private: bytes

    def __post_init__(self) -> None:
        _check_public(self.key_id, self.public_raw)
        _parse_wrapped(self.wrapped_private)

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key_id, self.public_raw)


# --- passphrase wrapping -------------------------------------------------------------------


def _check_strength(passphrase: str) -> None:
    if len(unicodedata.normalize("NFC", passphrase)) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphrase(
            N_(
                "the passphrase must be at least %(least)d characters long; a few unrelated "
                "words are easier to remember than symbols"
            ),
            least=MIN_PASSPHRASE_LENGTH,
        )


def _derive_wrapping_key(passphrase: str, salt: bytes, params: ScryptParams) -> bytes:
    # NFC so the same passphrase typed on different keyboards gives the same bytes.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    kdf = Scrypt(salt=salt, length=32, n=1 << params.log2_n, r=params.r, p=params.p)
    return kdf.derive(secret)


@dataclass(frozen=True)
class _ParsedWrap:
    params: ScryptParams
    salt: bytes
    nonce: bytes
    ciphertext: bytes


def _parse_wrapped(blob: bytes) -> _ParsedWrap:
    if len(blob) != _WRAPPED_SIZE:
        raise MalformedKey(
            f"a wrapped private key is {_WRAPPED_SIZE} bytes, not {len(blob)}: "
            "it is truncated or not a wrapped key"
        )
    version, kdf_id, log2_n, r, p = _WRAP_PREFIX.unpack_from(blob)
    if version != WRAP_FORMAT_VERSION:
        raise MalformedKey(
            f"wrapped key format version {version} is unknown; "
            f"this version reads {WRAP_FORMAT_VERSION}"
        )
    if kdf_id != _KDF_SCRYPT:
        raise MalformedKey(f"wrapped key uses unknown KDF id {kdf_id}")
    offset = _WRAP_PREFIX.size
    salt = blob[offset : offset + _SALT_SIZE]
    offset += _SALT_SIZE
    nonce = blob[offset : offset + _NONCE_SIZE]
    offset += _NONCE_SIZE
    return _ParsedWrap(ScryptParams(log2_n, r, p), salt, nonce, blob[offset:])


def _wrap(private_raw: bytes, public_raw: bytes, passphrase: str, params: ScryptParams) -> bytes:
    salt = os.urandom(_SALT_SIZE)
    nonce = os.urandom(_NONCE_SIZE)
    wrapping_key = _derive_wrapping_key(passphrase, salt, params)
    ciphertext = AESGCM(wrapping_key).encrypt(nonce, private_raw, public_raw)
    prefix = _WRAP_PREFIX.pack(WRAP_FORMAT_VERSION, _KDF_SCRYPT, params.log2_n, params.r, params.p)
    return prefix + salt + nonce + ciphertext


def _unwrap(wrapped: WrappedKey, passphrase: str) -> X25519PrivateKey:
    parsed = _parse_wrapped(wrapped.wrapped_private)
    wrapping_key = _derive_wrapping_key(passphrase, parsed.salt, parsed.params)
    try:
        private_raw = AESGCM(wrapping_key).decrypt(
            parsed.nonce, parsed.ciphertext, wrapped.public_raw
        )
    except InvalidTag:
        raise WrongPassphrase(
            N_("the passphrase does not open key %(key)s"), key=wrapped.key_id
        ) from None
    private = X25519PrivateKey.from_private_bytes(private_raw)
    if private.public_key().public_bytes_raw() != wrapped.public_raw:
        raise MalformedKey(f"key {wrapped.key_id}: the private key does not match the public key")
    return private


def generate_key(passphrase: str, *, kdf: ScryptParams = DEFAULT_KDF) -> WrappedKey:
    """Make a new key pair and wrap the private key at once; it never exists unwrapped at rest.

    ``kdf`` below ``DEFAULT_KDF`` is for tests only.
    """
    _check_strength(passphrase)
    private = X25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes_raw()
    wrapped_private = _wrap(private.private_bytes_raw(), public_raw, passphrase, kdf)
    return WrappedKey(key_id_for(public_raw), public_raw, wrapped_private)


def rewrap(
    wrapped: WrappedKey,
    old_passphrase: str,
    new_passphrase: str,
    *,
    kdf: ScryptParams = DEFAULT_KDF,
) -> WrappedKey:
    """The same key pair under a new passphrase (and today's KDF settings)."""
    _check_strength(new_passphrase)
    private = _unwrap(wrapped, old_passphrase)
    wrapped_private = _wrap(private.private_bytes_raw(), wrapped.public_raw, new_passphrase, kdf)
    return WrappedKey(wrapped.key_id, wrapped.public_raw, wrapped_private)


def verify_passphrase(wrapped: WrappedKey, passphrase: str) -> bool:
    try:
        _unwrap(wrapped, passphrase)
    except WrongPassphrase:
        return False
    return True


def kdf_params(wrapped: WrappedKey) -> ScryptParams:
    return _parse_wrapped(wrapped.wrapped_private).params


def needs_rewrap(wrapped: WrappedKey) -> bool:
    """True if the key was wrapped with weaker KDF settings than today's defaults."""
    return not kdf_params(wrapped).at_least(DEFAULT_KDF)


# --- the envelope --------------------------------------------------------------------------


def _message_key(
    shared: bytes, ephemeral_raw: bytes, recipient_raw: bytes, version: int = FORMAT_VERSION
) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_raw + recipient_raw,
        info=_HKDF_INFO[version],
    )
    return hkdf.derive(shared)


def pad(payload: bytes, length: int) -> bytes:
    """``payload`` padded to ``length`` bytes (at least one byte longer than the payload)."""
    if length <= len(payload):
        raise ValueError(f"cannot pad {len(payload)} bytes to {length}")
    return payload + _PAD_MARK + bytes(length - len(payload) - 1)


def unpad(plaintext: bytes) -> bytes:
    stripped = plaintext.rstrip(b"\x00")
    if not stripped.endswith(_PAD_MARK):
        raise MalformedEnvelope("the sealed response's padding is not well formed")
    return stripped[:-1]


def seal(
    public: PublicKey,
    binding: ResponseBinding,
    payload: bytes,
    *,
    padded_length: int | None = None,
    _ephemeral: X25519PrivateKey | None = None,
    _nonce: bytes | None = None,
) -> bytes:
    """Encrypt ``payload`` so that only the holder of ``public``'s private key can read it.

    The payload is padded to ``padded_length`` bytes (default: one more than its length);
    ``_ephemeral`` and ``_nonce`` exist only for the fixed test vectors.
    """
    ephemeral = _ephemeral or X25519PrivateKey.generate()
    ephemeral_raw = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public.raw))
    key = _message_key(shared, ephemeral_raw, public.raw)
    nonce = _nonce or os.urandom(_NONCE_SIZE)
    header = bytes((FORMAT_VERSION,)) + _key_id_bytes(public.raw) + ephemeral_raw + nonce
    plaintext = pad(payload, padded_length or len(payload) + 1)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, header + binding.encode())
    return header + ciphertext


def _check_envelope(blob: bytes) -> None:
    if not blob:
        raise MalformedEnvelope("the sealed response is empty")
    if blob[0] not in READABLE_VERSIONS:
        raise MalformedEnvelope(
            f"sealed response format version {blob[0]} is unknown; "
            f"this version reads {', '.join(map(str, sorted(READABLE_VERSIONS)))}"
        )
    if len(blob) < _MIN_BLOB_SIZE:
        raise MalformedEnvelope(
            f"the sealed response is {len(blob)} bytes, shorter than the "
            f"{_MIN_BLOB_SIZE}-byte minimum: it was truncated"
        )


def envelope_key_id(blob: bytes) -> str:
    """The key id a blob is sealed to, read from the header without any key."""
    _check_envelope(blob)
    return blob[1 : 1 + _KEY_ID_SIZE].hex()


@dataclass(frozen=True)
class _OpeningKey:
    private: X25519PrivateKey
    public_raw: bytes
    # HKDF of the private key: keys the record keys of the responses sealed to this key.
    record_secret: bytes = b""


_RECORD_KEY_INFO = b"survey-app report record key v1"


def _record_secret(private: X25519PrivateKey) -> bytes:
    raw = private.private_bytes_raw()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_RECORD_KEY_INFO).derive(raw)


# Shared by every closed UnlockedKeys; never written to.
_CLOSED: Final[dict[bytes, _OpeningKey]] = {}


class UnlockedKeys:
    """Private keys held in memory for one report run; close it as soon as the run ends."""

    def __init__(self, opening: dict[bytes, _OpeningKey], locked: frozenset[str]) -> None:
        self._opening = opening
        self.key_ids: frozenset[str] = frozenset(k.hex() for k in opening)
        self.locked: frozenset[str] = locked

    @classmethod
    def unlock(cls, wrapped: Iterable[WrappedKey], passphrase: str) -> UnlockedKeys:
        """Unwrap every key the passphrase opens; the rest are listed in ``locked``."""
        opening: dict[bytes, _OpeningKey] = {}
        locked: set[str] = set()
        seen = False
        for item in wrapped:
            seen = True
            if bytes.fromhex(item.key_id) in opening or item.key_id in locked:
                continue
            try:
                private = _unwrap(item, passphrase)
            except WrongPassphrase:
                locked.add(item.key_id)
                continue
            opening[_key_id_bytes(item.public_raw)] = _OpeningKey(
                private, item.public_raw, _record_secret(private)
            )
        if not seen:
            raise NoKeys(N_("there are no keys to unlock: generate or import a key first"))
        if not opening:
            raise WrongPassphrase(N_("the passphrase does not open any of the keys"))
        return cls(opening, frozenset(locked))

    def open(self, blob: bytes, binding: ResponseBinding) -> bytes:
        """The payload sealed in ``blob``, if it was sealed for exactly this ``binding``."""
        _check_envelope(blob)
        key_id = blob[1 : 1 + _KEY_ID_SIZE]
        try:
            opening = self._opening[key_id]
        except KeyError:
            if self._opening is _CLOSED:
                raise KeysClosed("the keys were closed; unlock them again") from None
            raise UnknownKeyId(
                f"the response is sealed to key {key_id.hex()}, which is not unlocked"
            ) from None
        ephemeral_raw = blob[9 : 9 + _X25519_SIZE]
        nonce = blob[41:_HEADER_SIZE]
        try:
            shared = opening.private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
        except ValueError:
            # A low-order ephemeral point: only an altered blob has one.
            raise TamperedResponse("the sealed response was altered") from None
        version = blob[0]
        key = _message_key(shared, ephemeral_raw, opening.public_raw, version)
        associated = blob[:_HEADER_SIZE] + binding.encode()
        try:
            plaintext = AESGCM(key).decrypt(nonce, blob[_HEADER_SIZE:], associated)
        except InvalidTag:
            raise TamperedResponse(
                f"response {binding.response_id!r} fails authentication: "
                "it was altered or belongs to another row"
            ) from None
        return plaintext if version == 1 else unpad(plaintext)

    def record_key(self, blob: bytes, response_id: str) -> int:
        """A 32-bit number fixed for this response and unknown to anyone without the key.

        Reports add these up per published cell (the cell key method, ``reports.perturbation``):
        it is HMAC-SHA256 of the response id under a secret derived from the private key the
        response is sealed to, so it is the same at every refresh and no viewer can work it out.
        """
        opening = self._opening.get(blob[1 : 1 + _KEY_ID_SIZE])
        if opening is None:
            raise UnknownKeyId("the response is sealed to a key that is not unlocked")
        digest = hmac.new(opening.record_secret, response_id.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big")

    def close(self) -> None:
        """Drop references to the private keys (Python cannot promise to wipe them)."""
        self._opening = _CLOSED

    def __enter__(self) -> UnlockedKeys:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"UnlockedKeys(key_ids={sorted(self.key_ids)}, locked={sorted(self.locked)})"


# --- export formats ------------------------------------------------------------------------


def public_key_pem(public: PublicKey) -> str:
    key = X25519PublicKey.from_public_bytes(public.raw)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def write_key_file(wrapped: WrappedKey) -> str:
    document = {
        "format": KEY_FILE_FORMAT,
        "key_id": wrapped.key_id,
        "public_key": base64.b64encode(wrapped.public_raw).decode("ascii"),
        "wrapped_private_key": base64.b64encode(wrapped.wrapped_private).decode("ascii"),
    }
    return json.dumps(document, indent=2) + "\n"


def _field(document: dict[str, object], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise KeyFileError(N_("the key file has no '%(field)s' text field"), field=name)
    return value


def _base64_field(document: dict[str, object], name: str) -> bytes:
    try:
        return base64.b64decode(_field(document, name), validate=True)
    except binascii.Error:
        raise KeyFileError(
            N_("the key file's '%(field)s' is not valid base64"), field=name
        ) from None


def read_key_file(text: str) -> WrappedKey:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KeyFileError(N_("this is not a key file: it is not JSON")) from None
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError(
            N_("this is not a key file: its format is not '%(format)s'"), format=KEY_FILE_FORMAT
        )
    expected = {"format", "key_id", "public_key", "wrapped_private_key"}
    if set(document) != expected:
        missing = sorted(expected - set(document))
        extra = sorted(set(document) - expected)
        raise KeyFileError(
            N_("the key file has missing fields %(missing)s or unknown fields %(extra)s"),
            missing=", ".join(missing) or "-",
            extra=", ".join(extra) or "-",
        )
    key_id = _field(document, "key_id")
    public_raw = _base64_field(document, "public_key")
    wrapped_private = _base64_field(document, "wrapped_private_key")
    try:
        return WrappedKey(key_id, public_raw, wrapped_private)
    except MalformedKey as error:
        raise KeyFileError(N_("the key file is damaged: %(problem)s"), problem=str(error)) from None
