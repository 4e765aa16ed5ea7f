"""How long a sealed payload is made, so that its length says nothing a report would not.

A sealed blob is its plaintext length plus a fixed overhead, so without padding the length of a
site's name, the options picked and the free text would show through. Each payload is padded
(envelope format 2, `survey_app.keys.sealing`) to

    closed budget of the survey version + free-text bucket

- the *closed budget* is the most that the metadata (site, channel, language, day) and every
  non-text answer of the survey version could take in the payload's JSON: the longest site of
  the survey's links, the longest language code, the longest option of each question, every
  option of a multiple choice, 24 characters for a number, and so on. Whatever was chosen,
  answered or skipped, this part is the same length for every response to the version;
- the *free-text bucket* is the JSON length of all text answers together, rounded up to a power
  of two (0 when there is none; at least 64 otherwise). A blob's length therefore tells only
  which power of two its free text falls in.

Storage: a payload grows by at most the unused part of the closed budget plus its free text
again; `tests/test_padding.py` measures it against unpadded blobs on the example surveys.
If a payload is ever longer than its budget (a definition this code cannot bound), it is padded
to the next multiple of 1024 bytes instead, and that length is the only thing it gives away.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from ..definitions import Survey, load_survey_json

DATE_WIDTH = 12  # "2026-11-30" with its quotes
UNKNOWN_WIDTH = 64
CHANNELS = ("self", "assisted")
# {"answers":{...},"format":N,"meta":{"channel":..,"day":..,"language":..,"site":..}} and commas
SKELETON = 96
FALLBACK_STEP = 1024


def _json_length(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


@lru_cache(maxsize=64)
def _survey(definition: str) -> Survey | None:
    try:
        return load_survey_json(definition)
    except Exception:  # a definition that cannot be read: the fallback pads it
        return None


def free_text_keys(survey: Survey) -> frozenset[str]:
    keys = set()
    for question in survey.questions():
        if question.kind.free_text:
            keys.add(question.id)
        if question.other_id is not None:
            keys.add(question.other_id)
    return frozenset(keys)


@lru_cache(maxsize=64)
def _answers_budget(definition: str) -> tuple[int, frozenset[str]] | None:
    survey = _survey(definition)
    if survey is None:
        return None
    free = free_text_keys(survey)
    total = 0
    for question in survey.questions():
        for key in question.answer_keys():
            # "key": plus the comma; a free-text key's name is counted here, its value apart.
            total += _json_length(key) + 2
            if key in free:
                continue
            total += question.kind.padding_width(question)
    return total, free


def _meta_budget(sites: Collection[str], languages: Collection[str]) -> int:
    return (
        max((_json_length(site) for site in sites), default=UNKNOWN_WIDTH)
        + max(_json_length(channel) for channel in CHANNELS)
        + max((_json_length(code) for code in languages), default=UNKNOWN_WIDTH)
        + DATE_WIDTH
    )


def bucket(length: int) -> int:
    """0 for no free text, else the power of two at or above it (at least 64)."""
    if length <= 0:
        return 0
    return max(64, 1 << (length - 1).bit_length())


def padded_length(
    payload: bytes,
    answers: Mapping[str, Any],
    definition: str,
    sites: Collection[str],
) -> int:
    """The length to pad ``payload`` (the answers and metadata of one response) to."""
    plan = padding_plan(definition, sites)
    if plan is None:
        return _fallback(len(payload))
    fixed, free = plan
    free_length = sum(_json_length(answers[key]) for key in free if key in answers)
    target = fixed + bucket(free_length)
    return target if target > len(payload) else _fallback(len(payload))


def padding_plan(definition: str, sites: Collection[str]) -> tuple[int, frozenset[str]] | None:
    """The fixed part of every padded length of a survey version, and its free-text keys.

    A device that seals offline (`static/offline/seal.js`) is sent these two and adds the
    free-text bucket itself, so its blobs are exactly as long as the server's. None when the
    definition cannot be bounded (the fallback applies).
    """
    budget = _answers_budget(definition)
    survey = _survey(definition)
    if budget is None or survey is None:
        return None
    closed, free = budget
    return SKELETON + closed + _meta_budget(sites, survey.language_codes), free


def _fallback(length: int) -> int:
    return (length // FALLBACK_STEP + 1) * FALLBACK_STEP
