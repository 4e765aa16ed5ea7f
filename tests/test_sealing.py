import base64
import json
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from survey_app.keys.sealing import (
    DEFAULT_KDF,
    FORMAT_VERSION,
    MINIMUM_KDF,
    KeyFileError,
    KeysClosed,
    MalformedEnvelope,
    MalformedKey,
    NoKeys,
    PublicKey,
    ResponseBinding,
    ScryptParams,
    TamperedResponse,
    UnknownKeyId,
    UnlockedKeys,
    WeakPassphrase,
    WrappedKey,
    WrongPassphrase,
    envelope_key_id,
    generate_key,
    kdf_params,
    needs_rewrap,
    public_key_pem,
    read_key_file,
    rewrap,
    seal,
    verify_passphrase,
    write_key_file,
)

# Cheap enough to keep the file fast; tests of the KDF itself use the defaults.
CHEAP_KDF = ScryptParams(log2_n=10, r=8, p=1)
PASSPHRASE = "lantern orchard quietly 42"
OTHER_PASSPHRASE = "seven bridges over the river"
BINDING = ResponseBinding("r-5e1d0c4b", "safety-feedback", "2")
PAYLOAD = json.dumps({"q01": "yes", "q02": 4, "site": "north"}).encode()
HEADER = 1 + 8 + 32 + 12

# Fixed vectors, made once by this format's first implementation. They must open for ever.
VECTOR_PRIVATE = bytes.fromhex("60098b2d2e37bbe230b0cabc5c3e30439356d4da509aab84ee72f2733443b95b")
VECTOR_PUBLIC = bytes.fromhex("70b29436412083e9d5a1b56cb210b4874d1e380edebd3dabb8a4846a427d8447")
VECTOR_KEY_ID = "4680afa1f68d0d31"
VECTOR_BINDING = ResponseBinding("r-7f3a9c2e", "safety-feedback", "3")
VECTOR_PAYLOAD = b'{"q01":"yes","q02":4,"site":"north"}'
VECTOR_BLOB = bytes.fromhex(
    "014680afa1f68d0d31e18b3a19355ab5e9de4d773f48271f36a37eef9baee1bc51ff7304c79d2f4b769483"
    "a8429b9d5369d34cbc10b59a9478c6562631f7ef2c8fc53e64c3d64cea941d1df05101f32a71beee89a275"
    "74e8bf5570176518275117e921c2b1d79b85b8"
)
# Format version 2: the same payload padded to 64 bytes (ephemeral key a8..a8, nonce 0b..0b).
VECTOR_BLOB_V2 = bytes.fromhex(
    "024680afa1f68d0d31f4c4706c6189a1dd5a5f83ffb4d3cd4fecffd75e072c7dab9e3c7bea1c38e1730b0b0b0b"
    "0b0b0b0b0b0b0b0bea583c5e9d595a22917e2272c70fd5e2f06d0a3447cebc36d7e7f12bc5a78af9561270590d"
    "ea087732a991c7e14f6d3f06b954cbee2633aae2c3d56a7f24f716108c70cc5a77f117635adee8b3542515"
)
VECTOR_PASSPHRASE = "correct horse battery staple"
VECTOR_WRAPPED = bytes.fromhex(
    "01010a080125aaa70d566c8a09efadd425f801955a53759dfc84ac0456738f20bfbb09d782e9ce1e78ad72"
    "c4bbb57aaaead1259e3d60f1674f7c28411908f13718add711d9f9ba1be78aea7985f28908f4"
)


@pytest.fixture(scope="session")
def wrapped() -> WrappedKey:
    return generate_key(PASSPHRASE, kdf=CHEAP_KDF)


@pytest.fixture(scope="session")
def other_wrapped() -> WrappedKey:
    return generate_key(OTHER_PASSPHRASE, kdf=CHEAP_KDF)


@pytest.fixture
def keys(wrapped: WrappedKey) -> Iterator[UnlockedKeys]:
    with UnlockedKeys.unlock([wrapped], PASSPHRASE) as unlocked:
        yield unlocked


@pytest.fixture
def blob(wrapped: WrappedKey) -> bytes:
    return seal(wrapped.public, BINDING, PAYLOAD)


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# --- the envelope ----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"", PAYLOAD, "¿Te sentiste segura? Да".encode() * 500])
def test_sealed_payload_opens_with_the_same_binding(
    keys: UnlockedKeys, wrapped: WrappedKey, payload: bytes
) -> None:
    binding = ResponseBinding("résponse-1", "encuesta-seguridad", "v2")
    sealed = seal(wrapped.public, binding, payload)
    assert keys.open(sealed, binding) == payload


def test_blob_layout_and_key_id(wrapped: WrappedKey, blob: bytes) -> None:
    assert blob[0] == FORMAT_VERSION == 2
    # Unless told otherwise, the padding is the one 0x80 byte.
    assert len(blob) == HEADER + len(PAYLOAD) + 1 + 16
    assert envelope_key_id(blob) == wrapped.key_id
    assert len(wrapped.key_id) == 16
    assert PAYLOAD not in blob


def test_sealing_twice_gives_different_blobs(wrapped: WrappedKey) -> None:
    first = seal(wrapped.public, BINDING, PAYLOAD)
    second = seal(wrapped.public, BINDING, PAYLOAD)
    assert first[9:HEADER] != second[9:HEADER]  # fresh ephemeral key and nonce
    assert first[HEADER:] != second[HEADER:]


@pytest.mark.parametrize(
    "moved",
    [
        ResponseBinding("r-other", BINDING.survey_id, BINDING.survey_version),
        ResponseBinding(BINDING.response_id, "other-survey", BINDING.survey_version),
        ResponseBinding(BINDING.response_id, BINDING.survey_id, "3"),
    ],
    ids=["response_id", "survey_id", "survey_version"],
)
def test_blob_moved_to_another_row_is_rejected(
    keys: UnlockedKeys, blob: bytes, moved: ResponseBinding
) -> None:
    with pytest.raises(TamperedResponse, match="another row"):
        keys.open(blob, moved)


def test_binding_fields_cannot_be_shifted_between_each_other(
    keys: UnlockedKeys, wrapped: WrappedKey
) -> None:
    sealed = seal(wrapped.public, ResponseBinding("ab", "c", "1"), PAYLOAD)
    with pytest.raises(TamperedResponse):
        keys.open(sealed, ResponseBinding("a", "bc", "1"))


@pytest.mark.parametrize(
    ("index", "error"),
    [
        (0, MalformedEnvelope),  # version byte
        (1, UnknownKeyId),  # key id, first byte
        (8, UnknownKeyId),  # key id, last byte
        (9, TamperedResponse),  # ephemeral public key
        (40, TamperedResponse),
        (41, TamperedResponse),  # nonce
        (52, TamperedResponse),
        (HEADER, TamperedResponse),  # ciphertext
        (-16, TamperedResponse),  # tag
        (-1, TamperedResponse),
    ],
)
def test_flipped_byte_is_reported(
    keys: UnlockedKeys, blob: bytes, index: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        keys.open(flip(blob, index), BINDING)


def test_header_pointing_at_another_unlocked_key_is_tampering(
    wrapped: WrappedKey, blob: bytes
) -> None:
    second = generate_key(PASSPHRASE, kdf=CHEAP_KDF)
    relabelled = blob[:1] + bytes.fromhex(second.key_id) + blob[9:]
    with (
        UnlockedKeys.unlock([wrapped, second], PASSPHRASE) as keys,
        pytest.raises(TamperedResponse),
    ):
        keys.open(relabelled, BINDING)


def test_low_order_ephemeral_key_is_tampering(keys: UnlockedKeys, blob: bytes) -> None:
    with pytest.raises(TamperedResponse):
        keys.open(blob[:9] + bytes(32) + blob[41:], BINDING)


@pytest.mark.parametrize(
    ("length", "error"),
    [(0, MalformedEnvelope), (1, MalformedEnvelope), (HEADER + 15, MalformedEnvelope)],
)
def test_blob_too_short_to_be_an_envelope(
    keys: UnlockedKeys, blob: bytes, length: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        keys.open(blob[:length], BINDING)
    with pytest.raises(error):
        envelope_key_id(blob[:length])


def test_truncated_ciphertext_is_tampering(keys: UnlockedKeys, blob: bytes) -> None:
    with pytest.raises(TamperedResponse):
        keys.open(blob[:-1], BINDING)


def test_unknown_version_byte(keys: UnlockedKeys, blob: bytes) -> None:
    future = bytes([3]) + blob[1:]
    with pytest.raises(MalformedEnvelope, match="version 3 is unknown"):
        keys.open(future, BINDING)
    with pytest.raises(MalformedEnvelope):
        envelope_key_id(future)


def test_blob_for_a_key_not_unlocked(keys: UnlockedKeys, other_wrapped: WrappedKey) -> None:
    sealed = seal(other_wrapped.public, BINDING, PAYLOAD)
    with pytest.raises(UnknownKeyId, match=other_wrapped.key_id):
        keys.open(sealed, BINDING)


# --- unlocking --------------------------------------------------------------------------------


def test_wrong_passphrase(wrapped: WrappedKey) -> None:
    with pytest.raises(WrongPassphrase):
        UnlockedKeys.unlock([wrapped], OTHER_PASSPHRASE)
    assert verify_passphrase(wrapped, PASSPHRASE)
    assert not verify_passphrase(wrapped, OTHER_PASSPHRASE)


def test_unlock_skips_keys_the_passphrase_does_not_open(
    wrapped: WrappedKey, other_wrapped: WrappedKey
) -> None:
    with UnlockedKeys.unlock([wrapped, other_wrapped, wrapped], PASSPHRASE) as keys:
        assert keys.key_ids == {wrapped.key_id}
        assert keys.locked == {other_wrapped.key_id}


def test_unlock_with_no_keys() -> None:
    with pytest.raises(NoKeys):
        UnlockedKeys.unlock([], PASSPHRASE)


def test_closed_keys_open_nothing(wrapped: WrappedKey, blob: bytes) -> None:
    with UnlockedKeys.unlock([wrapped], PASSPHRASE) as keys:
        assert keys.open(blob, BINDING) == PAYLOAD
    with pytest.raises(KeysClosed):
        keys.open(blob, BINDING)
    assert "PRIVATE" not in repr(keys).upper()


def test_passphrase_is_compared_after_unicode_normalisation() -> None:
    composed = "contraseña segura del día"
    decomposed = "contrasen\u0303a segura del di\u0301a"
    key = generate_key(composed, kdf=CHEAP_KDF)
    assert verify_passphrase(key, decomposed)


# --- passphrases and rewrapping ---------------------------------------------------------------


@pytest.mark.parametrize("weak", ["", "short", "elevenchars"])
def test_short_passphrase_is_refused(wrapped: WrappedKey, weak: str) -> None:
    with pytest.raises(WeakPassphrase, match="at least 12 characters"):
        generate_key(weak, kdf=CHEAP_KDF)
    with pytest.raises(WeakPassphrase, match="at least 12 characters"):
        rewrap(wrapped, PASSPHRASE, weak, kdf=CHEAP_KDF)


def test_rewrap_changes_passphrase_and_keeps_the_key(wrapped: WrappedKey, blob: bytes) -> None:
    rewrapped = rewrap(wrapped, PASSPHRASE, OTHER_PASSPHRASE, kdf=CHEAP_KDF)
    assert rewrapped.key_id == wrapped.key_id
    assert rewrapped.public_raw == wrapped.public_raw
    assert not verify_passphrase(rewrapped, PASSPHRASE)
    with UnlockedKeys.unlock([rewrapped], OTHER_PASSPHRASE) as keys:
        assert keys.open(blob, BINDING) == PAYLOAD


def test_rewrap_needs_the_old_passphrase(wrapped: WrappedKey) -> None:
    with pytest.raises(WrongPassphrase):
        rewrap(wrapped, OTHER_PASSPHRASE, "a brand new passphrase", kdf=CHEAP_KDF)


def test_default_kdf_meets_the_documented_minimum() -> None:
    assert MINIMUM_KDF.log2_n >= 15 and MINIMUM_KDF.r >= 8 and MINIMUM_KDF.p >= 1
    assert DEFAULT_KDF.at_least(MINIMUM_KDF)
    key = generate_key(PASSPHRASE)
    assert kdf_params(key) == DEFAULT_KDF
    assert not needs_rewrap(key)


def test_weakly_wrapped_key_is_flagged_for_rewrap(wrapped: WrappedKey) -> None:
    assert kdf_params(wrapped) == CHEAP_KDF
    assert needs_rewrap(wrapped)


def test_kdf_parameters_that_ask_for_too_much_memory_are_refused(wrapped: WrappedKey) -> None:
    hostile = wrapped.wrapped_private[:2] + bytes([30]) + wrapped.wrapped_private[3:]
    with pytest.raises(MalformedKey, match="1 GiB"):
        WrappedKey(wrapped.key_id, wrapped.public_raw, hostile)


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1],
        lambda blob: bytes([2]) + blob[1:],  # unknown wrap format
        lambda blob: blob[:1] + bytes([9]) + blob[2:],  # unknown KDF
    ],
    ids=["truncated", "version", "kdf"],
)
def test_malformed_wrapped_key(wrapped: WrappedKey, damage: Callable[[bytes], bytes]) -> None:
    with pytest.raises(MalformedKey):
        WrappedKey(wrapped.key_id, wrapped.public_raw, damage(wrapped.wrapped_private))


def test_public_key_must_match_its_id(wrapped: WrappedKey) -> None:
    with pytest.raises(MalformedKey, match="does not match"):
        PublicKey("00" * 8, wrapped.public_raw)
    with pytest.raises(MalformedKey, match="32 bytes"):
        PublicKey(wrapped.key_id, wrapped.public_raw[:31])


# --- key files and export ---------------------------------------------------------------------


def test_key_file_round_trip(wrapped: WrappedKey, blob: bytes) -> None:
    text = write_key_file(wrapped)
    assert json.loads(text)["key_id"] == wrapped.key_id
    restored = read_key_file(text)
    assert restored == wrapped
    with UnlockedKeys.unlock([restored], PASSPHRASE) as keys:
        assert keys.open(blob, BINDING) == PAYLOAD


def _key_file(wrapped: WrappedKey, **changes: object) -> str:
    document: dict[str, object] = json.loads(write_key_file(wrapped))
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda w: "", "not JSON"),
        (lambda w: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEA\n", "not JSON"),
        (lambda w: "[1, 2]", "not a key file"),
        (lambda w: _key_file(w, format="survey-app key file v9"), "not a key file"),
        (lambda w: _key_file(w, public_key=None), "missing fields"),
        (lambda w: _key_file(w, comment="mine"), "unknown fields"),
        (lambda w: _key_file(w, key_id=7), "'key_id'"),
        (lambda w: _key_file(w, public_key="not base64!"), "not valid base64"),
        (lambda w: _key_file(w, public_key=base64.b64encode(bytes(31)).decode()), "damaged"),
        (lambda w: _key_file(w, key_id="0123456789abcdef"), "damaged"),
        (lambda w: _key_file(w, wrapped_private_key="AAAA"), "damaged"),
    ],
)
def test_garbage_key_files_are_refused(
    wrapped: WrappedKey, make: Callable[[WrappedKey], str], message: str
) -> None:
    with pytest.raises(KeyFileError, match=message):
        read_key_file(make(wrapped))


def test_public_key_pem_loads_back(wrapped: WrappedKey) -> None:
    pem = public_key_pem(wrapped.public)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    loaded = serialization.load_pem_public_key(pem.encode())
    assert isinstance(loaded, X25519PublicKey)
    assert loaded.public_bytes_raw() == wrapped.public_raw


# --- fixed vectors: old data must keep opening ------------------------------------------------


def test_fixed_wrapped_key_still_unwraps_and_opens_the_fixed_blob() -> None:
    vector = WrappedKey(VECTOR_KEY_ID, VECTOR_PUBLIC, VECTOR_WRAPPED)
    assert kdf_params(vector) == CHEAP_KDF
    with UnlockedKeys.unlock([vector], VECTOR_PASSPHRASE) as keys:
        assert keys.open(VECTOR_BLOB, VECTOR_BINDING) == VECTOR_PAYLOAD
        assert keys.open(VECTOR_BLOB_V2, VECTOR_BINDING) == VECTOR_PAYLOAD


def test_the_fixed_version_2_blob_is_what_sealing_writes_today() -> None:
    ephemeral = X25519PrivateKey.from_private_bytes(bytes.fromhex("a8" * 32))
    public = PublicKey(VECTOR_KEY_ID, VECTOR_PUBLIC)
    written = seal(
        public,
        VECTOR_BINDING,
        VECTOR_PAYLOAD,
        padded_length=64,
        _ephemeral=ephemeral,
        _nonce=bytes.fromhex("0b" * 12),
    )
    assert written == VECTOR_BLOB_V2
    assert len(written) == HEADER + 64 + 16


def test_padding_hides_the_payload_length(keys: UnlockedKeys, wrapped: WrappedKey) -> None:
    short = seal(wrapped.public, BINDING, b"{}", padded_length=256)
    long = seal(wrapped.public, BINDING, b"x" * 200, padded_length=256)
    assert len(short) == len(long)
    assert keys.open(short, BINDING) == b"{}" and keys.open(long, BINDING) == b"x" * 200
    with pytest.raises(ValueError):
        seal(wrapped.public, BINDING, b"x" * 256, padded_length=256)


def test_fixed_vectors_match_the_documented_format() -> None:
    """An independent reading of the byte layout in the module docstring."""
    assert X25519PrivateKey.from_private_bytes(VECTOR_PRIVATE).public_key().public_bytes_raw() == (
        VECTOR_PUBLIC
    )
    # wrapped key: version, kdf, log2 n, r, p, salt(16), nonce(12), ciphertext+tag
    version, kdf, log2_n, r, p = VECTOR_WRAPPED[:5]
    assert (version, kdf) == (1, 1)
    salt, nonce = VECTOR_WRAPPED[5:21], VECTOR_WRAPPED[21:33]
    wrapping_key = Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(
        VECTOR_PASSPHRASE.encode()
    )
    assert AESGCM(wrapping_key).decrypt(nonce, VECTOR_WRAPPED[33:], VECTOR_PUBLIC) == (
        VECTOR_PRIVATE
    )

    # envelope: version, key id, ephemeral public, nonce, ciphertext+tag
    header = VECTOR_BLOB[:53]
    assert VECTOR_BLOB[1:9].hex() == VECTOR_KEY_ID
    ephemeral, nonce = VECTOR_BLOB[9:41], VECTOR_BLOB[41:53]
    shared = X25519PrivateKey.from_private_bytes(VECTOR_PRIVATE).exchange(
        X25519PublicKey.from_public_bytes(ephemeral)
    )
    key = HKDF(
        hashes.SHA256(), 32, salt=ephemeral + VECTOR_PUBLIC, info=b"survey-app response v1"
    ).derive(shared)
    associated = header + b"".join(
        len(field.encode()).to_bytes(4, "big") + field.encode()
        for field in ("r-7f3a9c2e", "safety-feedback", "3")
    )
    assert AESGCM(key).decrypt(nonce, VECTOR_BLOB[53:], associated) == VECTOR_PAYLOAD
    # version 2: the same reading with "v2" in the HKDF info, then the padding removed
    ephemeral, nonce = VECTOR_BLOB_V2[9:41], VECTOR_BLOB_V2[41:53]
    shared = X25519PrivateKey.from_private_bytes(VECTOR_PRIVATE).exchange(
        X25519PublicKey.from_public_bytes(ephemeral)
    )
    key = HKDF(
        hashes.SHA256(), 32, salt=ephemeral + VECTOR_PUBLIC, info=b"survey-app response v2"
    ).derive(shared)
    associated = VECTOR_BLOB_V2[:53] + associated[53:]
    padded = AESGCM(key).decrypt(nonce, VECTOR_BLOB_V2[53:], associated)
    assert padded == VECTOR_PAYLOAD + b"\x80" + bytes(64 - len(VECTOR_PAYLOAD) - 1)
