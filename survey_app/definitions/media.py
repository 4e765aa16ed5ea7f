"""Pictures and sounds with a question's label or an option: files kept next to the survey.

A survey `surveys/<id>.toml` names its pictures (`image = "faces/happy.png"`); the files are
in `surveys/media/<id>/`. Each is checked when the survey is loaded: it must exist, be at most
MAX_IMAGE_BYTES, and be a PNG, JPEG or WebP picture by its content (not by its name). SVG is
refused: it is a document that can carry scripts and links. A sound (`audio = "ask.mp3"`) must
be MP3, Ogg, WAV or M4A by its content, at most MAX_AUDIO_BYTES. The app serves the files
itself, from its own origin, so a page asks nothing of a third party.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

MEDIA_FOLDER: Final = "media"
MAX_IMAGE_BYTES: Final = 512 * 1024
MAX_AUDIO_BYTES: Final = 2 * 1024 * 1024
# A name inside the survey's media folder: folders allowed, no way out of it.
MEDIA_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\Z")


@dataclass(frozen=True)
class MediaFile:
    """One checked picture or sound: how to serve it and how big to draw it (0 for a sound)."""

    name: str
    content_type: str
    width: int
    height: int
    digest: str  # first 12 hex digits of its SHA-256: in its address, so caches never go stale


def media_folder(surveys_dir: Path, survey_id: str) -> Path:
    return surveys_dir / MEDIA_FOLDER / survey_id


def check_image(folder: Path, name: str) -> MediaFile | str:
    """The picture `name` in `folder`, or why it cannot be shown."""
    return check_media(folder, name, "image")


def check_media(folder: Path, name: str, kind: str) -> MediaFile | str:
    """The picture ("image") or sound ("audio") `name` in `folder`, or why it cannot be used."""
    if MEDIA_NAME.match(name) is None or ".." in name.split("/"):
        return (
            f"{kind} {name!r}: name a file inside the survey's media folder with letters, "
            f"digits, '_', '-', '.' and '/'"
        )
    if kind == "audio":
        return check_audio_file(folder / name, name)
    return check_image_file(folder / name, name)


def _read_within(path: Path, what: str, limit: int, verb: str) -> bytes | str:
    """The file's bytes, or why not: it is missing, or larger than `limit`."""
    if not path.is_file():
        return f"{what}: no such file in {path.parent}"
    size = path.stat().st_size
    if size > limit:
        return (
            f"{what} is {size // 1024} KB: at most {limit // 1024} KB, "
            f"so that people with little data can {verb} it"
        )
    return path.read_bytes()


def check_audio_file(path: Path, name: str) -> MediaFile | str:
    """The sound at `path`, which the survey names `name`, or why it cannot be played."""
    data = _read_within(path, f"audio {name!r}", MAX_AUDIO_BYTES, "play")
    if isinstance(data, str):
        return data
    content_type = sniff_audio(data)
    if content_type is None:
        return f"audio {name!r} is not an MP3, Ogg, WAV or M4A sound"
    return MediaFile(name, content_type, 0, 0, hashlib.sha256(data).hexdigest()[:12])


def sniff_audio(data: bytes) -> str | None:
    """The content type read from the sound's own bytes, or None."""
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp" and data[8:11] in {b"M4A", b"mp4", b"iso"}:
        return "audio/mp4"
    return None


def sniff(data: bytes, content_type: str) -> str | None:
    """The content type `data` has, if it is of the same kind as `content_type`, else None."""
    if content_type.startswith("audio/"):
        return sniff_audio(data)
    image = sniff_image(data)
    return image[0] if image else None


def check_image_file(path: Path, name: str) -> MediaFile | str:
    """The picture at `path`, which the survey names `name`, or why it cannot be shown."""
    data = _read_within(path, f"image {name!r}", MAX_IMAGE_BYTES, "load")
    if isinstance(data, str):
        return data
    sniffed = sniff_image(data)
    if sniffed is None:
        return f"image {name!r} is not a PNG, JPEG or WebP picture" + (
            " (SVG can carry scripts and is not served)" if b"<svg" in data[:1024] else ""
        )
    content_type, width, height = sniffed
    digest = hashlib.sha256(data).hexdigest()[:12]
    return MediaFile(name, content_type, width, height, digest)


def sniff_image(data: bytes) -> tuple[str, int, int] | None:
    """(content type, width, height) read from the picture's own bytes, or None."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return _sized("image/png", width, height)
        if data.startswith(b"\xff\xd8\xff"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except (struct.error, IndexError):
        return None
    return None


def _sized(content_type: str, width: int, height: int) -> tuple[str, int, int] | None:
    return (content_type, width, height) if width > 0 and height > 0 else None


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if 0xC0 <= marker <= 0xCF and marker not in {0xC4, 0xC8, 0xCC}:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return _sized("image/jpeg", width, height)
        position += 2 + length
    return None


def _webp(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return _sized("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return _sized("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return _sized("image/webp", width, height)
    return None
