"""Turning survey text written in a TOML file into safe HTML."""

from __future__ import annotations

from markupsafe import Markup, escape

BULLETS = ("• ", "- ", "* ")


def paragraphs(text: str) -> Markup:
    """Blank lines separate paragraphs; a block of lines starting with a bullet becomes a list."""
    blocks: list[str] = []
    for block in str(text).strip().split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith(BULLETS) for line in lines):
            items = "".join(f"<li>{escape(line[2:].strip())}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{Markup('<br>').join(escape(line) for line in lines)}</p>")
    return Markup("".join(blocks))  # noqa: S704 - every piece of text above is escaped
