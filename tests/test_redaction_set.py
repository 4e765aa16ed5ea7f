"""The redaction test set itself: well formed, big enough, and scored the way it says."""

from __future__ import annotations

import unicodedata
from collections import Counter

from tests.support.redaction_cases import (
    CATEGORIES,
    PLACEHOLDER,
    configured_names,
    held_out_cases,
    ordinary_cases,
    personal_cases,
    replaced_regions,
    score,
)


def test_the_set_has_enough_labelled_details_in_every_category() -> None:
    cases = personal_cases()
    kinds = Counter(detail.kind for case in cases for detail in case.details)
    assert sum(kinds.values()) >= 150
    assert set(kinds) == {c for c in CATEGORIES if c != "name"} | {
        "name (listed)",
        "name (unlisted)",
    }
    assert min(kinds.values()) >= 9
    assert len(ordinary_cases()) >= 60
    assert len({case.id for case in cases + ordinary_cases()}) == len(cases) + len(ordinary_cases())


def test_every_labelled_span_is_in_its_answer_and_the_text_is_plain() -> None:
    for case in personal_cases() + ordinary_cases():
        assert case.text == unicodedata.normalize("NFC", case.text), case.id
        assert not PLACEHOLDER.search(case.text), case.id
        for detail in case.details:
            assert detail.span in case.text, (case.id, detail.span)
            assert detail.category in CATEGORIES
            assert not detail.listed or detail.category == "name"
    assert len(configured_names()) >= 10


def test_replaced_regions_are_read_back_from_the_redacted_text() -> None:
    text = "Amina Yusuf 0712 345 678, call Amina."
    assert replaced_regions(text, "[name] 0712 345 678, call [name].") == [
        (0, 11, "name"),
        (31, 36, "name"),
    ]
    # Two placeholders around a bare space: the split may fall on either space, the letters
    # and digits covered are the same.
    regions = replaced_regions(text, "[name] [phone], call [name].")
    assert regions is not None and [label for *_, label in regions] == ["name", "phone", "name"]
    assert regions[0][0] == 0 and regions[1][1] == 24
    assert replaced_regions(text, text) == []
    assert replaced_regions(text, "something else") is None
    assert replaced_regions(text, "[name] changed [phone]") is None


def test_score_counts_partial_redaction_as_a_miss_and_stray_redaction_as_wrong() -> None:
    case = next(c for c in personal_cases() if c.id == "en-01")
    # "Amina from the shelter helped me a lot. If you need me call 0712 345 678 or write to ..."
    half = case.text.replace("0712 345", "[number]").replace("shelter", "[name]")
    result = score([case], [half])
    assert result.found["phone"] == 0 and result.found["name (listed)"] == 0
    assert result.precision() == 0.5 and result.wrong == [("en-01", "shelter")]
    ordinary = ordinary_cases()[:2]
    kept = score(ordinary, [c.text for c in ordinary])
    assert kept.ordinary_kept == 2 and kept.precision() == 1.0


def test_the_held_out_set_is_well_formed_and_apart_from_the_tuning_set() -> None:
    held_out = held_out_cases()
    assert sum(len(case.details) for case in held_out) >= 60
    assert not {c.text for c in held_out} & {c.text for c in personal_cases() + ordinary_cases()}
    for case in held_out:
        for detail in case.details:
            assert detail.span in case.text and detail.category in CATEGORIES, case.id
