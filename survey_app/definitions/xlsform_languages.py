"""Language names as XLSForm column headers spell them, mapped to language codes.

XLSForm columns name a language as `label::English (en)`, `label::English` or `label:Français`.
Our survey files key translations by code, so a header is turned into a code: the code in
parentheses when there is one, else a known language name, else a slug of the name (which the
importer reports, because `surveys check` will not recognise it). Names are looked up in the
table below (aliases and spellings forms use), then in Babel's (CLDR) English names and each
language's own name. Codes are normalised: a country code written for a language (`np` for
Nepali) or a withdrawn code (`iw`) becomes the language's ISO code, and the import says so.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers

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


# Codes forms use for a language that are not that language's code: a country's code, or a
# code ISO has withdrawn. Each is used only when it is no language's code of its own.
MISTAKEN_CODES: dict[str, tuple[str, str]] = {
    "np": ("ne", "Nepal's country code"),
    "jp": ("ja", "Japan's country code"),
    "cn": ("zh", "China's country code"),
    "ua": ("uk", "Ukraine's country code"),
    "dk": ("da", "Denmark's country code"),
    "gr": ("el", "Greece's country code"),
    "cz": ("cs", "Czechia's country code"),
    "kh": ("km", "Cambodia's country code"),
    "sp": ("es", "not a code; Spanish is 'es'"),
    "iw": ("he", "the withdrawn code for Hebrew"),
    "in": ("id", "the withdrawn code for Indonesian"),
    "ji": ("yi", "the withdrawn code for Yiddish"),
    "jw": ("jv", "the withdrawn code for Javanese"),
    "mo": ("ro", "the withdrawn code for Moldovan, which is Romanian"),
}


@dataclass(frozen=True)
class Language:
    """A language as a form names it: its code and, when the form gives one, its name."""

    code: str
    name: str | None
    # False when the code was made up from an unknown name; the importer says so.
    recognised: bool = True
    # The code as the form wrote it, when it was corrected, and why (for the import's note).
    written: str | None = None
    why: str | None = None


def language_from_header(text: str) -> Language:
    """Turn the language part of a column header (`English (en)`, `Tetun`, `fr`) into a code."""
    text = " ".join(text.split())
    match = _CODE_IN_PARENTHESES.match(text)
    if match:
        return _coded(match.group("code"), match.group("name") or None)
    known = LANGUAGE_CODES.get(text.casefold()) or _english_names().get(text.casefold())
    if known is not None:
        return Language(code=known, name=text)
    if _BARE_CODE.match(text.lower().replace("_", "-")):
        # `label::EN`, `label::fr`: a bare code, in either case.
        return _coded(text, None)
    native = _native_names().get(text.casefold())
    if native is not None:
        return Language(code=native, name=text)
    return Language(code=_slug(text), name=text, recognised=False)


def _coded(written: str, name: str | None) -> Language:
    code = _normalise_code(written)
    primary, _, rest = code.partition("-")
    mistaken = MISTAKEN_CODES.get(primary)
    if mistaken is None:
        return Language(code=code, name=name)
    corrected = mistaken[0] + (f"-{rest}" if rest else "")
    return Language(code=corrected, name=name, written=written, why=mistaken[1])


def _normalise_code(code: str) -> str:
    # BCP 47 style: primary subtag lower case, separated by hyphens ("pt_BR" -> "pt-BR").
    primary, *rest = code.replace("_", "-").split("-")
    return "-".join([primary.lower(), *rest])


@functools.cache
def _english_names() -> dict[str, str]:
    """Babel's (CLDR) English language names, casefolded -> code."""
    return {
        name.casefold(): code
        for code, name in Locale("en").languages.items()
        if "_" not in code and code not in MISTAKEN_CODES
    }


@functools.cache
def _native_names() -> dict[str, str]:
    """Each language's name in itself (`नेपाली`, `Kiswahili`), casefolded -> code. Loading every
    locale takes a moment, so this is read only for a name found nowhere else."""
    names: dict[str, str] = {}
    for identifier in locale_identifiers():
        if "_" in identifier:
            continue
        try:
            name = Locale.parse(identifier).language_name
        except (UnknownLocaleError, ValueError):
            continue
        if name:
            names.setdefault(name.casefold(), identifier)
    return names


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
