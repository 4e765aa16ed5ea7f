"""Names of people: the programme's configured names in any spelling, and others by context.

Configured names (``reports.redact_names``) are matched word by word, so that a given name or
a surname alone is found too, in any of these spellings:

* another case, accents added or stripped, Arabic vowel marks, tatweel, hamza and teh marbuta
  variants, an Arabic prefix written onto the word (و، ف، ب، ل، ك، ال);
* another script, compared through a Latin transliteration (``anyascii``): Оксана for Oksana,
  ተስፋዬ for Tesfaye, and, since Arabic script leaves short vowels out, محمد for Mohammed,
  Muhammad or Mouhamed by their consonants;
* common letter variants (x/ks, ph/f, ou/u, y/i, c/k, doubled letters, a final h) and one slip of
  the keyboard (two in words of eight letters or more), compared with ``rapidfuzz``, for
  capitalised words of five letters or more.

A configured name that is also an ordinary word (Joy, Grace, Hope) is matched in lower case
only as part of the full name ("joy eze"), so "it gave me joy" stays.

Names nobody configured are found by what comes before them ("my name is", "je m'appelle",
"me llamo", "اسمي", "меня зовут", "मेरा नाम", "Mr", "my sister"...), as two or more capitalised
words in a row inside a sentence, and as capitalised words next to a name already found. Once
found, a name is replaced wherever else it appears in the same answer. What still passes: a
single unlisted name with nothing before it that says it is one ("Ngozi still works there"
is caught only through "my sister").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extractOne

from .text import LETTER, NAME, WORD, Span, fold, has_case, is_capitalised

_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
# Ordinary words that are also given names: matched alone only when capitalised.
COMMON_WORDS = frozenset(
    "joy grace hope faith will may june april rose lily mercy patience blessing precious "
    "charity victory sunny summer dawn star destiny gift happiness peace love angel honey "
    "esperanza rosa paz luz amor pilar alegría dolores espoir rose "
    "amal nour noor saeed said jamila karim amin "
    "вера надежда любовь".split()
)
_VARIANTS = (
    ("ks", "x"),
    ("ph", "f"),
    ("ou", "u"),
    ("oo", "u"),
    ("kh", "h"),
    ("y", "i"),
    ("w", "v"),
    ("c", "k"),
    ("q", "k"),
    ("j", "i"),
)
_DOUBLED = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]")


@lru_cache(maxsize=65536)
def latin_key(folded: str) -> str:
    """A Latin spelling that most transliterations of one name share."""
    key = re.sub(r"[^a-z]", "", anyascii(folded).lower())
    for variant, common in _VARIANTS:
        key = key.replace(variant, common)
    key = _DOUBLED.sub(r"\1", key)
    return key[:-1] if key.endswith("h") and len(key) > 3 else key


@lru_cache(maxsize=65536)
def consonants(folded: str) -> str:
    """The consonants of a name: what Arabic script writes of it."""
    key = _DOUBLED.sub(r"\1", _VOWELS.sub("", latin_key(folded)).replace("v", ""))
    return key[:-1] if key.endswith("h") and len(key) > 3 else key


def _arabic_stems(folded: str) -> list[str]:
    stems = [folded]
    if _ARABIC.match(folded):
        for prefix in _ARABIC_PREFIXES:
            if folded.startswith(prefix) and len(folded) - len(prefix) >= 3:
                stems.append(folded[len(prefix) :])
    return stems


class ListedNames:
    """The configured names, ready to be found in any spelling."""

    def __init__(self, names: Iterable[str]) -> None:
        self.parts: set[str] = set()
        self.keys: set[str] = set()
        self.vowel_blind: set[str] = set()
        self.arabic_consonants: set[str] = set()
        self.latin_consonants: set[str] = set()
        self.full_names: list[list[str]] = []
        for name in names:
            words = [fold(m.group()) for m in WORD.finditer(name)]
            words = [w for w in words if len(w) >= 2]
            if not words:
                continue
            self.full_names.append(words)
            for word in words:
                self.parts.add(word)
                self.keys.add(latin_key(word))
                self.vowel_blind.add(_VOWELS.sub("a", latin_key(word)))
                target = self.arabic_consonants if _ARABIC.match(word) else self.latin_consonants
                if len(consonants(word)) >= 3:
                    target.add(consonants(word))
        self._key_list = sorted(self.keys)
        self._full_by_first: dict[str, list[tuple[str, ...]]] = {}
        for words in self.full_names:
            if len(words) >= 2:
                keys = tuple(latin_key(word) for word in words)
                self._full_by_first.setdefault(keys[0], []).append(keys)
        self._matches: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.parts)

    def matches(self, word: str) -> bool:
        """Whether ``word`` is a configured name (or part of one) in some spelling."""
        known = self._matches.get(word)
        if known is None:
            known = self._matches[word] = self._match(word)
        return known

    def _match(self, word: str) -> bool:
        folded = fold(word)
        if len(folded) < 2:
            return False
        if folded in COMMON_WORDS and not is_capitalised(word):
            return False
        for stem in _arabic_stems(folded):
            if stem in self.parts:
                return True
            key = latin_key(stem)
            if len(key) >= 3 and key in self.keys:
                return True
            arabic = bool(_ARABIC.match(stem))
            other_side = self.latin_consonants if arabic else self.arabic_consonants
            # Arabic script writes no short vowels: compare consonants, on words long enough
            # not to be a common word's stem (الحمد less its prefix is not أحمد).
            if len(stem) >= 4 and consonants(stem) in other_side:
                return True
            if not (arabic or is_capitalised(word) or not has_case(word)):
                continue
            # Transliterations differ in their vowels (Ahmed, Ahmad); typing slips in one
            # letter of a long word (Benaly, Ioanna).
            if len(key) >= 4 and _VOWELS.sub("a", key) in self.vowel_blind:
                return True
            if len(key) >= 6:
                slips = 1 if len(key) < 9 else 2
                if extractOne(key, self._key_list, scorer=Levenshtein.distance, score_cutoff=slips):
                    return True
        return False

    def full_name_words(self, words: list[str]) -> set[int]:
        """Indexes of words that together spell a whole configured name ("joy eze")."""
        keys = [latin_key(fold(word)) for word in words]
        found: set[int] = set()
        for i, key in enumerate(keys):
            for name in self._full_by_first.get(key, ()):
                if tuple(keys[i : i + len(name)]) == name:
                    found.update(range(i, i + len(name)))
        return found


# Words before a name that say it is one, in the languages the programme serves.
_CUES = re.compile(
    r"(?:ชื่อ|(?<!\w)(?:my name is|my name's|name\s*:|called|named|"
    r"mr|mrs|ms|miss|dr|chief|madam|sir|auntie|uncle|"
    r"my (?:friend|sister|brother|cousin|aunt|mother|mum|mom|father|dad|son|daughter|husband|"
    r"wife|partner|boyfriend|girlfriend|boss|sponsor|driver|colleague|neighbour|neighbor)|"
    r"the (?:driver|boss|recruiter|agent|trafficker|owner|madam|sponsor|lawyer|caseworker)|"
    r"je m'appelle|je m’appelle|s'appelle|s’appelle|appelée?|m\.|mme|mlle|monsieur|madame|"
    r"mon (?:fils|frère|ami|mari|patron|cousin|oncle)|ma (?:fille|sœur|soeur|amie|femme|tante|cousine)|"
    r"me llamo|se llama|llamad[oa]|mi nombre es|un tal|una tal|señor|señora|sr\.|sra\.|don|doña|"
    r"mi (?:hermana|hermano|amiga|amigo|hijo|hija|madre|padre|esposo|esposa|jefe|tía|tío)|"
    r"(?:o )?meu nome é|chamo-me|chama-se|ich heiße|heißt|hieß|se numea|mă numesc|"
    r"numele meu este|jina langu ni|ako si|pangalan ko ay|"
    r"меня зовут|мене звати|зовут|звати|водитель|водій|хозяин|хазяїн|"
    r"اسمي|اسمه|اسمها|الكفيل|السائق|السيد|السيدة|الأستاذ|الأستاذة|صديقتي|صديقي|أختي|أخي|"
    r"मेरा नाम|मेरो नाम|नाम|मालिक|ड्राइवर|ชื่อ|tên (?:em|tôi|của em) là|chị|anh)"
    r"(?![^\W\d_]))\.?\s*[:,]?\s*",
    re.IGNORECASE,
)
_HAN_NAME = re.compile(r"(?:我叫|我的名字是|名叫)([\u4e00-\u9fff]{2,3})")
# Capitalised words that begin place names, organisations, days and months, not people.
_NOT_NAMES = frozenset(
    "i the a an and or but my our your his her their this that it we they he she you "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december christmas easter ramadan eid "
    "city island office centre center street road avenue hospital clinic university school "
    "college church mosque court police embassy ministry house council home credit job "
    "universal red cross united kingdom states nations north south east west new saint st "
    "great lake river mount port bay airport station hotel bank union european republic "
    "via calle rue rua strada avenida plaza piazza place "
    "god allah english french spanish arabic covid nhs ngo un uk usa eu "
    "thank thanks please merci gracias hello ok yes no".split()
)
_STOP_AFTER_CUE = frozenset(
    "है हो था थी थे ने को से का की के में और एवं يا و في من على عن إلى مع هو هي".split()
)
_SENTENCE_END = re.compile(r"[.!?;:\n\u3002\u0964]\s*$")


def find_names(text: str, listed: ListedNames) -> list[Span]:
    words = list(WORD.finditer(text))
    texts = [w.group() for w in words]
    is_name = [False] * len(words)
    if listed:
        whole = listed.full_name_words(texts)
        for i, word in enumerate(texts):
            if i in whole:
                is_name[i] = True
            elif listed.matches(word):
                # "Grâce à Hélène", "Hope you are well": an ordinary word opening a sentence.
                is_name[i] = fold(word) not in COMMON_WORDS or not _starts_sentence(text, words[i])
    _mark_after_cues(text, words, is_name)
    _mark_capitalised_runs(text, words, is_name)
    _spread(words, is_name)
    spans = [
        Span(w.start(), w.end(), NAME) for w, named in zip(words, is_name, strict=True) if named
    ]
    spans += [Span(m.start(1), m.end(1), NAME) for m in _HAN_NAME.finditer(text)]
    return _join_adjacent(text, spans)


def _word_index_at(words: list[re.Match[str]], position: int) -> int | None:
    for i, word in enumerate(words):
        if word.start() >= position:
            return i
    return None


def _mark_after_cues(text: str, words: list[re.Match[str]], is_name: list[bool]) -> None:
    for cue in _CUES.finditer(text):
        index = _word_index_at(words, cue.end())
        if index is None or words[index].start() != cue.end():
            continue
        taken = 0
        while index < len(words) and taken < 3:
            word = words[index].group()
            if taken and text[words[index - 1].end() : words[index].start()].strip(" -"):
                break  # a comma or a full stop ends the name
            if fold(word) in _NOT_NAMES or word in _STOP_AFTER_CUE:
                break
            if taken and word.startswith("\u0648"):
                break  # Arabic "and" begins the next clause: اسمي محمد ورقمي

            if has_case(word) and not is_capitalised(word):
                break
            if not has_case(word) and taken == 2:
                break
            is_name[index] = True
            taken += 1
            index += 1


def _starts_sentence(text: str, word: re.Match[str]) -> bool:
    before = text[: word.start()].rstrip(" \"'«“(")
    return not before or _SENTENCE_END.search(before) is not None


def _mark_capitalised_runs(text: str, words: list[re.Match[str]], is_name: list[bool]) -> None:
    """Two or more capitalised words in a row, inside a sentence, and words next to a name."""
    run: list[int] = []
    for i in [*range(len(words)), None]:
        if i is not None:
            word = words[i].group()
            gap = text[words[run[-1]].end() : words[i].start()] if run else ""
            joined = bool(run) and not gap.strip(" -")
            if (not run or joined) and _could_be_name(word):
                run.append(i)
                continue
        if run:
            inside = not _starts_sentence(text, words[run[0]])
            if (len(run) >= 2 and inside) or any(is_name[j] for j in run):
                for j in run:
                    is_name[j] = True
        run = [i] if i is not None and _could_be_name(words[i].group()) else []


@lru_cache(maxsize=65536)
def _could_be_name(word: str) -> bool:
    return (
        has_case(word)
        and is_capitalised(word)
        and len(word) >= 2
        and not word.isupper()
        and fold(word) not in _NOT_NAMES
    )


def _spread(words: list[re.Match[str]], is_name: list[bool]) -> None:
    """A name found once is replaced wherever else it appears in the answer."""
    found = {fold(w.group()) for w, named in zip(words, is_name, strict=True) if named}
    for i, word in enumerate(words):
        folded = fold(word.group())
        if is_name[i] or folded not in found or len(folded) < 3:
            continue
        if folded not in COMMON_WORDS or is_capitalised(word.group()):
            is_name[i] = True


def _join_adjacent(text: str, spans: list[Span]) -> list[Span]:
    """One placeholder for a whole name: "Amina Yusuf" is one [name], not two."""
    joined: list[Span] = []
    for span in sorted(spans):
        if joined and not re.sub(rf"[\s\-]|{LETTER}(?=$)", "", text[joined[-1].end : span.start]):
            joined[-1] = Span(joined[-1].start, max(span.end, joined[-1].end), NAME)
        else:
            joined.append(span)
    return joined
