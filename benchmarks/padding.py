"""Storage cost of padding sealed payloads (envelope format 2) on the example surveys.

Prints, per survey, the mean sealed blob length without padding (format 1: payload + 69 bytes)
and with it (format 2), measured side by side on the same generated answers, and their ratio;
the target is at most 2x.

    python benchmarks/padding.py
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from survey_app.definitions import load_directory
from survey_app.intake.responses import ResponseMeta, encode_payload
from survey_app.keys.padding import padded_length
from survey_app.operations.sample_data import fake_answers

ROOT = Path(__file__).resolve().parent.parent
OVERHEAD = 69  # header and tag of a sealed blob
SITES = ["North", "Central clinic", "Eastern regional drop-in centre"]
RESPONSES = 1000


def main() -> None:
    loaded = load_directory(ROOT / "surveys")
    worst = 0.0
    for survey_id, survey in sorted(loaded.surveys.items()):
        rng = random.Random(11)
        plain = padded = 0
        for _ in range(RESPONSES):
            answers = fake_answers(survey, rng)
            meta = ResponseMeta(
                rng.choice(SITES),
                rng.choice(["self", "assisted"]),
                rng.choice(survey.language_codes),
                date(2026, 3, 4),
            )
            payload = encode_payload(answers, meta)
            plain += len(payload) + OVERHEAD
            padded += padded_length(payload, answers, survey.canonical_json, SITES) + OVERHEAD
        ratio = padded / plain
        worst = max(worst, ratio)
        print(
            f"{survey_id}: mean blob {plain / RESPONSES:.0f} bytes unpadded, "
            f"{padded / RESPONSES:.0f} padded: {ratio:.2f}x"
        )
    print(f"largest ratio {worst:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
