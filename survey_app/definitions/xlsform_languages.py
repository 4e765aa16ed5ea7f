"""Language names as XLSForm column headers spell them, mapped to language codes.

XLSForm columns name a language as `label::English (en)`, `label::English` or `label:Français`.
Our survey files key translations by code, so a header is turned into a code: the code in
parentheses when there is one, else a known language name, else a slug of the name (which the
importer reports, because `surveys check` will not recognise it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ISO 639-1 where it exists, else ISO 639-3 (Tetum, Dari, Rohingya...). Keys are casefolded;
# native names are included because forms written by local staff often use them.
LANGUAGE_CODES: dict[str, str] = {
    "afrikaans": "af",
    "albanian": "sq",
    "shqip": "sq",
    "amharic": "am",
    "አማርኛ": "am",
    "arabic": "ar",
    "العربية": "ar",
    "عربي": "ar",
    "armenian": "hy",
    "aymara": "ay",
    "azerbaijani": "az",
    "azeri": "az",
    "bambara": "bm",
    "bahasa indonesia": "id",
    "bahasa malaysia": "ms",
    "bangla": "bn",
    "bengali": "bn",
    "bislama": "bi",
    "bosnian": "bs",
    "bulgarian": "bg",
    "burmese": "my",
    "myanmar": "my",
    "cantonese": "yue",
    "chichewa": "ny",
    "nyanja": "ny",
    "chinese": "zh",
    "mandarin": "zh",
    "中文": "zh",
    "croatian": "hr",
    "czech": "cs",
    "danish": "da",
    "dari": "prs",
    "dinka": "din",
    "dutch": "nl",
    "english": "en",
    "estonian": "et",
    "farsi": "fa",
    "persian": "fa",
    "فارسی": "fa",
    "fijian": "fj",
    "filipino": "fil",
    "finnish": "fi",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "fula": "ff",
    "fulfulde": "ff",
    "fulani": "ff",
    "georgian": "ka",
    "german": "de",
    "deutsch": "de",
    "greek": "el",
    "guarani": "gn",
    "gujarati": "gu",
    "haitian creole": "ht",
    "kreyòl": "ht",
    "hausa": "ha",
    "hebrew": "he",
    "hindi": "hi",
    "हिन्दी": "hi",
    "hmong": "hmn",
    "hungarian": "hu",
    "igbo": "ig",
    "indonesian": "id",
    "italian": "it",
    "italiano": "it",
    "japanese": "ja",
    "kanuri": "kr",
    "kazakh": "kk",
    "khmer": "km",
    "kinyarwanda": "rw",
    "kirundi": "rn",
    "rundi": "rn",
    "kiswahili": "sw",
    "swahili": "sw",
    "korean": "ko",
    "kurdish": "ku",
    "kurmanji": "kmr",
    "sorani": "ckb",
    "kyrgyz": "ky",
    "lao": "lo",
    "latvian": "lv",
    "lingala": "ln",
    "lithuanian": "lt",
    "luganda": "lg",
    "ganda": "lg",
    "macedonian": "mk",
    "malagasy": "mg",
    "malay": "ms",
    "maori": "mi",
    "marathi": "mr",
    "moldovan": "ro",
    "mongolian": "mn",
    "nepali": "ne",
    "norwegian": "no",
    "nuer": "nus",
    "oromo": "om",
    "afaan oromoo": "om",
    "pashto": "ps",
    "پښتو": "ps",
    "polish": "pl",
    "portuguese": "pt",
    "português": "pt",
    "portugues": "pt",
    "punjabi": "pa",
    "quechua": "qu",
    "rohingya": "rhg",
    "romanian": "ro",
    "russian": "ru",
    "русский": "ru",
    "samoan": "sm",
    "serbian": "sr",
    "sesotho": "st",
    "setswana": "tn",
    "shona": "sn",
    "sinhala": "si",
    "slovak": "sk",
    "somali": "so",
    "soomaali": "so",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "swedish": "sv",
    "tagalog": "tl",
    "tajik": "tg",
    "tamil": "ta",
    "telugu": "te",
    "tetum": "tet",
    "tetun": "tet",
    "thai": "th",
    "tigrinya": "ti",
    "ትግርኛ": "ti",
    "tok pisin": "tpi",
    "tongan": "to",
    "turkish": "tr",
    "türkçe": "tr",
    "turkmen": "tk",
    "ukrainian": "uk",
    "українська": "uk",
    "urdu": "ur",
    "اردو": "ur",
    "uzbek": "uz",
    "vietnamese": "vi",
    "tiếng việt": "vi",
    "wolof": "wo",
    "xhosa": "xh",
    "yoruba": "yo",
    "zulu": "zu",
}

_CODE_IN_PARENTHESES = re.compile(
    r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\)\s*$"
)
_BARE_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Language:
    """A language as a form names it: its code and, when the form gives one, its name."""

    code: str
    name: str | None
    # False when the code was made up from an unknown name; the importer says so.
    recognised: bool = True


def language_from_header(text: str) -> Language:
    """Turn the language part of a column header (`English (en)`, `Tetun`, `fr`) into a code."""
    text = " ".join(text.split())
    match = _CODE_IN_PARENTHESES.match(text)
    if match:
        code = _normalise_code(match.group("code"))
        return Language(code=code, name=match.group("name") or None)
    known = LANGUAGE_CODES.get(text.casefold())
    if known is not None:
        return Language(code=known, name=text)
    if _BARE_CODE.match(text.lower()):
        # `label::EN`, `label::fr`: a bare code, in either case.
        return Language(code=_normalise_code(text), name=None)
    return Language(code=_slug(text), name=text, recognised=False)


def _normalise_code(code: str) -> str:
    # BCP 47 style: primary subtag lower case, separated by hyphens ("pt_BR" -> "pt-BR").
    primary, *rest = code.replace("_", "-").split("-")
    return "-".join([primary.lower(), *rest])


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "und"


@dataclass(frozen=True)
class LanguagePlan:
    """Which language code each text column is written in, and the survey's language order."""

    default: str
    codes: tuple[str, ...]  # default language first
    names: tuple[tuple[str, str], ...]  # code -> name, where the form names the language

    def code_for(self, language: Language | None) -> str:
        """Columns without a language (`label`, `hint`) hold the default language's text."""
        return self.default if language is None else language.code
