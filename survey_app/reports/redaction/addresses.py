"""Street addresses and postcodes.

An address is a house number next to a street: a street word (Road, rue, Calle, Straße,
вул., شارع ...) and a capitalised name, in the order the language writes them ("27 Queen's
Road", "14 rue des Lilas", "Calle Mayor 23", "Hauptstraße 5", "вул. Шевченка, 25"), or a post
office box. The flat, floor, building or entrance written next to it goes with it ("Flat 3",
"3º izquierda", "кв. 7", "عمارة ١٢"), and so does a postcode written just after it. Postcodes
with a shape of their own (E14 6XY, M5H 2N2, 1100-053, 75011 Paris) go wherever they are.
A street named without a number ("the shelter on Moi Avenue") stays: it names a place that
many people share.
"""

from __future__ import annotations

import re

from .text import ADDRESS, Span

_UPPER = r"A-ZÀ-ÞĀ-ſȘȚ\u0400-\u042f"
_CAPWORD = rf"[{_UPPER}][\w'’\-]*\.?"
_NAMES = rf"{_CAPWORD}(?:\s+{_CAPWORD}){{0,3}}"
_PARTICLES = r"(?:(?:de|des|du|la|le|les|del|d'|da|do|dos|das|di|della|van|von|der|al|of|the)\s*)*"
_NUMBER = r"\d+(?:\s?[A-Za-z](?![\w]))?(?:/\d+)?"
_NUMBER_WORD = r"(?:nr\.?|no\.?|n°|nº|№|num\.?|número|numéro|д\.|буд\.|nyumba\s+namba|namba)\s*"
# Street words written after the name (English order) ...
_AFTER = (
    r"Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.?|Way|Close|Crescent|Place|"
    r"Square|Court|Ct\.?|Boulevard|Blvd\.?|Terrace|Gardens|Grove|Row|Hill|Parkway|Highway"
)
# ... and before it.
_BEFORE = (
    r"rue|avenue|av\.|avda\.|boulevard|bd\.?|place|chemin|allée|impasse|quai|route|cours|"
    r"calle|c/|avenida|plaza|paseo|carrera|camino|rua|travessa|praça|largo|estrada|"
    r"strada|str\.|bulevardul|calea|aleea|șoseaua|soseaua|splaiul|piața|"
    r"via|viale|piazza|corso|vicolo|"
    r"ул\.|улица|вул\.|вулиця|просп\.|проспект|пер\.|переулок|провулок|бульвар|шосе|шоссе"
)
_COMPOUND = (
    rf"[{_UPPER}]\w*(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|ring|straat|laan|"
    r"plein|gracht|kade|singel|way|gate)"
)
_UNIT = (
    r"(?:flat|apt\.?|apartment|unit|suite|floor|house(?:\s+no\.?)?|plot|block|bl\.|sc\.|et\.|"
    r"ap\.|kv\.|кв\.|квартира|корп\.|під'їзд|подъезд|piso|puerta|appartement|app\.|bâtiment|"
    r"bât\.|étage|escalier|nyumba\s+namba|عمارة|العمارة|الشقة|شقة|طابق|الطابق|بناية|مبنى)"
)
_UNIT_PART = rf"{_UNIT}\s*[A-Z]?\d+\w*|\d+\s?[º°ª]\s*\w+"
_STREET = re.compile(
    "|".join(
        (
            # 27 Queen's Road / 1420 Pine Street / 120 Queen St W / 55 Kingsway
            rf"\b\d+[A-Za-z]?,?\s+(?:{_NAMES}\s+(?:{_AFTER})\b(?:\s[NSEW]\b)?|{_COMPOUND}\b)",
            # 14 rue des Lilas / 8, avenue Jean-Jaurès
            rf"\b\d+[A-Za-z]?,?\s+(?i:{_BEFORE})\s+{_PARTICLES}{_NAMES}",
            # Calle Mayor 23 / вул. Шевченка, 25 / Strada Florilor nr. 12 / ул. Ленина, д. 5
            rf"(?<!\w)(?i:{_BEFORE})\s*{_PARTICLES}{_NAMES},?\s+(?i:{_NUMBER_WORD})?{_NUMBER}",
            # Hauptstraße 5 / Kerkstraat 14
            rf"\b{_COMPOUND}\s+{_NUMBER}",
            # Moi Avenue 45 / Moi Avenue, nyumba namba 45
            rf"\b{_NAMES}\s+(?:{_AFTER}),?\s+(?i:{_NUMBER_WORD})?\d+\w*",
            # شارع الملك فيصل
            r"(?<![\u0620-\u064a])(?:شارع|طريق|جادة|حي)(?:\s+[\u0620-\u064a\u066e-\u06d3]+){1,3}",
            # मकान नं. 45, गली नं. 3
            r"(?:मकान|घर|फ्लैट|प्लॉट|ब्लॉक|गली)\s+नं\.?\s*\d+",
            # P.O. Box 4512-00100
            r"\b(?:P\.?\s?O\.?\s?Box|B\.?P\.?|Apartado(?:\s+postal)?|Caixa\s+Postal|Postfach)"
            r"\s*\d+(?:-\d+)?",
        )
    )
)
_UNITS_AFTER = re.compile(rf"(?:\s*[,،]\s*|\s+)(?i:{_UNIT_PART})")
_UNITS_BEFORE = re.compile(rf"(?i:{_UNIT_PART})\s*,\s*$")
_POSTCODE_SHAPES = (
    r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # United Kingdom
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # Canada
    r"|\d{4}-\d{3}"  # Portugal
    r"|\d{4}\s?[A-Z]{2}(?=\s+[A-Z])"  # Netherlands, before the town
)
_POSTCODE = re.compile(rf"(?<![\w\-])(?:{_POSTCODE_SHAPES})(?![\w\-])")
# Five figures before a town's name (75011 Paris, 28013 Madrid) or after a US state.
_TOWN_POSTCODE = re.compile(
    rf"(?<![\w\-.,])\d{{5}}(?=\s+[{_UPPER}][a-zà-ÿ]+(?!\w))(?!\s+(?:Euros?|Dollars?|USD|EUR))"
    r"|(?<=\b[A-Z]{2}\s)\d{5}(?!\d)"
)
# After an address, the postcode and town that follow it on the same line.
_NEAR_POSTCODE = re.compile(rf"[^.;:!?\n]{{0,30}}?(?<![\w\-])(\d{{4,6}}|{_POSTCODE_SHAPES})(?!\w)")


def addresses(text: str) -> list[Span]:
    spans = []
    for match in _STREET.finditer(text):
        start, end = match.start(), match.end()
        while unit := _UNITS_AFTER.match(text, end):
            end = unit.end()
        window = max(0, start - 20)
        if before := _UNITS_BEFORE.search(text[window:start]):
            start = window + before.start()
        spans.append(Span(start, end, ADDRESS))
        if near := _NEAR_POSTCODE.match(text, end):
            spans.append(Span(near.start(1), near.end(1), ADDRESS))
    spans += [Span(m.start(), m.end(), ADDRESS) for m in _POSTCODE.finditer(text)]
    spans += [Span(m.start(), m.end(), ADDRESS) for m in _TOWN_POSTCODE.finditer(text)]
    return spans
