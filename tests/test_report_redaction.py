"""Redaction of free-text answers: contact details, ID numbers and names go, the story stays."""

from __future__ import annotations

from datetime import date

import pytest

from survey_app.reports.redaction import Redactor, UnknownRegionError


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(["Amina", "Marie Dupont", "Hélène", "محمد", "فاطمة"], "KE")


def test_english_answer_loses_contacts_and_names(redactor: Redactor) -> None:
    text = (
        "Amina from the shelter helped me a lot. If you need me call 0712 345 678 "
        "or write to amina.k@gmail.com. My old boss is on facebook.com/john.smith.99 "
        "and my passport AB1234567 is still with him."
    )
    assert redactor.redact(text) == (
        "[name] from the shelter helped me a lot. If you need me call [phone] "
        "or write to [email]. My old boss is on [link] "
        "and my passport [number] is still with him."
    )


def test_french_answer_with_local_and_international_numbers() -> None:
    redactor = Redactor(["Hélène", "Marie Dupont"], "FR")
    text = (
        "HÉLÈNE m'a accompagnée au tribunal. Mon numéro : 06.12.34.56.78, "
        "celui de ma sœur au pays +234 803 123 4567. Merci à marie  dupont et d'Hélène."
    )
    assert redactor.redact(text) == (
        "[name] m'a accompagnée au tribunal. Mon numéro : [phone], "
        "celui de ma sœur au pays [phone]. Merci à [name] et d'[name]."
    )


def test_arabic_answer_with_arabic_indic_digits(redactor: Redactor) -> None:
    text = "اسمي محمد ورقمي ٠٧٩٥١٢٣٤٥٦، وفاطمة ساعدتني كثيرا. وصلت في ٢٠١٩ وعمري ١٩ سنة."
    assert redactor.redact(text) == (
        "اسمي [name] ورقمي [phone]، [name] ساعدتني كثيرا. وصلت في ٢٠١٩ وعمري ١٩ سنة."
    )


def test_persian_digits_phone_without_a_region() -> None:
    redactor = Redactor([], None)
    assert redactor.redact("شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است") == "شماره من [phone] است"


def test_international_number_is_found_without_a_region() -> None:
    redactor = Redactor([], None)
    assert redactor.redact("call +44 20 7946 0958 now") == "call [phone] now"
    assert redactor.redact("call +1 (555) 123-4567 now") == "call [phone] now"


@pytest.mark.parametrize(
    "text",
    [
        "I was 19 years old in 2019 and we were 12 people in the house.",
        "It happened on 12-03-2019 and again on 2020-11-05 at 10:30.",
        "They paid me 150 dollars a month, 3.5 times less than promised.",
        "In 2019 12 of us left; room 1204, flat 23, bus 7.",
        "C'était bien.et merci, fin.de semaine. It ended.Then I ran.",
        "J'avais 17 ans en 2018, maintenant 23 ans.",
        "عملت ١٢ ساعة في اليوم لمدة ٣ سنوات",
        "Paid 1500 EUR to the agent; the NGO 2024 report; COVID 19 was hard.",
        "I took the A1 and M6 to Leeds. Section 8 and Article 3 ECHR. Level B2.",
        "I hope, by the grace of God, to stay. May was the hardest month.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor(["Amina"], "KE").redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my id 12345678 was taken", "my id [number] was taken"),
        ("case 123-456-789 at the police", "case [number] at the police"),
        ("national id 1234 5678", "national id [number]"),
        ("permit no. 12 34 56", "permit no. [number]"),
        ("passport P12345678 and X1234567", "passport [number] and [number]"),
        ("reference 987654.", "reference [number]."),
    ],
)
def test_id_like_numbers_are_replaced(text: str, expected: str) -> None:
    assert Redactor([], None).redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.org/a?b=1.", "see [link]."),
        ("see http://10.0.0.1:8080/x now", "see [link] now"),
        ("on www.example.com, then", "on [link], then"),
        ("ask at help.example.org/contact today", "ask at [link] today"),
        ("my page bit.ly/x1 and site.in/abc", "my page [link] and [link]"),
        ("the site ngo-help.ke is good", "the site [link] is good"),
    ],
)
def test_links_are_replaced(text: str, expected: str) -> None:
    assert Redactor([], None).redact(text) == expected


def test_names_match_whole_words_only(redactor: Redactor) -> None:
    assert redactor.redact("Aminata is not Amina, nor AMINA's cousin") == (
        "Aminata is not [name], nor [name]'s cousin"
    )


def test_longer_name_wins_over_its_parts() -> None:
    redactor = Redactor(["Marie", "Marie Dupont"], None)
    assert redactor.redact("Marie\nDupont and Marie") == "[name] and [name]"


def test_decomposed_accents_still_match_a_name(redactor: Redactor) -> None:
    assert redactor.redact("He\u0301le\u0300ne was kind") == "[name] was kind"


def test_overlapping_matches_are_replaced_once(redactor: Redactor) -> None:
    assert redactor.redact("amina.0712345678@mail.com") == "[email]"
    assert redactor.redact("https://wa.me/254712345678") == "[link]"
    assert redactor.redact("محمد@example.com") == "[email]"


def test_blank_names_are_ignored() -> None:
    assert Redactor(["", "  "], None).redact("nothing to hide") == "nothing to hide"


def test_unknown_region_is_refused() -> None:
    with pytest.raises(UnknownRegionError, match="two-letter"):
        Redactor([], "XX")
    assert Redactor([], "ke").redact("0712 345 678") == "[phone]"


def test_a_date_of_birth_goes_and_a_date_of_service_stays() -> None:
    redactor = Redactor([], None, today=date(2026, 3, 1))
    assert (
        redactor.redact("Born 5.6.2000, court on 12/03/2024.")
        == "Born [date], court on 12/03/2024."
    )
    assert redactor.redact("DOB 02-11-95") == "DOB [date]"
    assert redactor.redact("nací el 5 de junio de 1997") == "nací el [date]"
    # A full date from long ago is a birth date even without the word; a recent one is not.
    assert (
        redactor.redact("le 3 mars 1999, puis le 3 mars 2024") == "le [date], puis le 3 mars 2024"
    )


def test_a_configured_name_that_is_a_word_stays_as_a_word() -> None:
    redactor = Redactor(["Joy Eze", "Grace Adeyemi"], None)
    assert redactor.redact("It gave me joy. By the grace of God.") == (
        "It gave me joy. By the grace of God."
    )
    assert redactor.redact("the nurse joy eze and Grace helped") == (
        "the nurse [name] and [name] helped"
    )


@pytest.mark.parametrize(
    "spelling",
    ["Mohammed", "Muhammad", "Mouhamed", "مُحَمَّد", "محـــمد", "ومحمد", "MOHAMED", "Mohamad"],
)
def test_a_configured_name_is_found_in_other_spellings_and_scripts(spelling: str) -> None:
    assert (
        Redactor(["محمد"], None).redact(f"thanks to {spelling} today") == "thanks to [name] today"
    )


def test_a_spelled_out_email_goes_but_a_word_at_a_domain_is_a_link() -> None:
    redactor = Redactor([], None)
    assert redactor.redact("write to amina dot k at gmail dot com") == "write to [email]"
    assert redactor.redact("ask at help.example.org today") == "ask at [link] today"
