"""Inline SVG charts of published tables: answers as bars, indicators with their intervals.

Each chart is an image with a title and a description naming the table it draws, and the page
shows that table beside it: the table is the chart's text alternative. A suppressed value is
never drawn as a bar or a point: its place says "suppressed". Colours come from classes in the
report style sheet (the content security policy allows no inline styles); geometry uses SVG
presentation attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .groups import COMBINED
from .plan import VariableKind
from .presentation import Labels
from .snapshot import SUPPRESSED, TableDoc, VariableDoc

WIDTH = 640
LABEL_WIDTH = 250
VALUE_WIDTH = 110
ROW_HEIGHT = 26
TOP = 10
CLIP = 30  # characters of a label drawn; the whole label is its tooltip and in the table


@dataclass(frozen=True)
class _Bar:
    label: str
    percent: float | None  # None when suppressed
    count: int | None
    suppressed: bool


def _svg(anchor: str, title: str, description: str, height: int, body: list[str]) -> str:
    title_id, desc_id = f"{anchor}-title", f"{anchor}-desc"
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    labels: Labels, variable: VariableDoc, table: TableDoc, column: int, anchor: str, title: str
) -> str | None:
    """Percentages of each answer in one column of a table (None if nothing to draw)."""
    if variable["kind"] not in (
        VariableKind.CHOICE.value,
        VariableKind.MULTIPLE.value,
        VariableKind.DATE.value,
    ):
        return None
    answers = {r["key"] for r in variable["rows"] if r["kind"] in ("answer", "option")}
    bars = []
    for row in table["rows"]:
        if row["key"] not in answers:
            continue
        count, share = row["counts"][column], row["percents"][column]
        suppressed = count == SUPPRESSED or share == SUPPRESSED
        bars.append(
            _Bar(
                labels.row(variable, row["key"]),
                None if suppressed or not isinstance(share, float | int) else float(share),
                count if isinstance(count, int) else None,
                suppressed,
            )
        )
    if not bars:
        return None
    t = labels.translate
    height = TOP * 2 + ROW_HEIGHT * len(bars) + 20
    scale = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = [
        f'<line class="chart-axis" x1="{LABEL_WIDTH}" y1="{TOP}" x2="{LABEL_WIDTH}" '
        f'y2="{TOP + ROW_HEIGHT * len(bars)}"/>'
    ]
    for index, bar in enumerate(bars):
        y = TOP + index * ROW_HEIGHT
        middle = y + ROW_HEIGHT / 2 + 4
        body.append(_label(bar.label, LABEL_WIDTH - 8, middle))
        if bar.suppressed:
            body.append(
                f'<rect class="chart-suppressed" x="{LABEL_WIDTH}" y="{y + 5}" '
                f'width="{scale}" height="{ROW_HEIGHT - 10}" stroke-dasharray="4 3"/>'
                f'<text class="chart-marker" x="{LABEL_WIDTH + 8}" y="{middle}">'
                f"{escape(t(SUPPRESSED))}</text>"
            )
            continue
        percent = bar.percent or 0.0
        body.append(
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y + 5}" '
            f'width="{scale * percent / 100:.1f}" height="{ROW_HEIGHT - 10}"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + scale * percent / 100 + 6:.1f}" '
            f'y="{middle}">{_number(percent)}%</text>'
        )
    description = t(
        "Bar chart of the percentage giving each answer, out of those who answered. "
        "The table that follows gives the same numbers."
    )
    return _svg(anchor, title, description, height, body)


def _label(text: str, x: float, y: float) -> str:
    """A row label, right-aligned before the plot; a long one is cut, its whole text a tooltip."""
    if len(text) <= CLIP:
        return f'<text class="chart-label" x="{x}" y="{y}" text-anchor="end">{escape(text)}</text>'
    return (
        f'<text class="chart-label" x="{x}" y="{y}" text-anchor="end">'
        f"<title>{escape(text)}</title>{escape(text[: CLIP - 1])}…</text>"
    )


@dataclass(frozen=True)
class _Estimate:
    label: str
    value: float | None  # None when suppressed or no data
    lower: float
    upper: float
    suppressed: bool


def _estimates(labels: Labels, table: TableDoc, dimension: str | None) -> list[_Estimate]:
    found = []
    for key, estimate in zip(table["columns"], table.get("estimates", []), strict=False):
        label = labels.group(dimension, key)
        if isinstance(estimate, dict):
            found.append(
                _Estimate(
                    label,
                    float(estimate["value"]),
                    float(estimate["lower"]),
                    float(estimate["upper"]),
                    False,
                )
            )
        else:
            found.append(_Estimate(label, None, 0.0, 0.0, estimate == SUPPRESSED))
    return found


def indicator_chart(
    labels: Labels,
    variable: VariableDoc,
    table: TableDoc,
    anchor: str,
    title: str,
    dimension: str | None = None,
) -> str | None:
    """Each column's proportion as a point with its 95% interval, and the target as a line."""
    rows = _estimates(labels, table, dimension or table["dimension"])
    if not rows:
        return None
    t = labels.translate
    scale = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = TOP + 16  # room for the target's label
    height = top + TOP + ROW_HEIGHT * len(rows) + 16
    bottom = top + ROW_HEIGHT * len(rows)
    body = [_percent_axis(top, bottom, scale)]
    target = variable["target"]
    if target is not None:
        x = LABEL_WIDTH + scale * target
        body.append(
            f'<line class="chart-target" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke-dasharray="6 4"/><text class="chart-value" x="{x:.1f}" y="{top - 5}" '
            f'text-anchor="middle">{escape(t("target"))} {_number(100 * target)}%</text>'
        )
    for index, row in enumerate(rows):
        y = top + index * ROW_HEIGHT + ROW_HEIGHT / 2
        body.append(_label(row.label, LABEL_WIDTH - 8, y + 4))
        if row.value is None:
            marker = t(SUPPRESSED) if row.suppressed else t("no data")
            body.append(
                f'<text class="chart-marker" x="{LABEL_WIDTH + 8}" y="{y + 4}">'
                f"{escape(marker)}</text>"
            )
            continue
        low, high = LABEL_WIDTH + scale * row.lower, LABEL_WIDTH + scale * row.upper
        point = LABEL_WIDTH + scale * row.value
        body.append(
            f'<line class="chart-whisker" x1="{low:.1f}" y1="{y}" x2="{high:.1f}" y2="{y}"/>'
            f'<line class="chart-whisker" x1="{low:.1f}" y1="{y - 5}" x2="{low:.1f}" '
            f'y2="{y + 5}"/><line class="chart-whisker" x1="{high:.1f}" y1="{y - 5}" '
            f'x2="{high:.1f}" y2="{y + 5}"/>'
            f'<circle class="chart-point" cx="{point:.1f}" cy="{y}" r="5"/>'
            f'<text class="chart-value" x="{WIDTH - VALUE_WIDTH + 8}" y="{y + 4}">'
            f"{_number(100 * row.value)}%</text>"
        )
    description = t(
        "Each group's percentage is a dot; the line through it is its 95% interval; the dashed "
        "line is the target. The table that follows gives the same numbers."
    )
    return _svg(anchor, title, description, height, body)


def _percent_axis(top: float, bottom: float, scale: float) -> str:
    ticks = []
    for percent in (0, 25, 50, 75, 100):
        x = LABEL_WIDTH + scale * percent / 100
        ticks.append(
            f'<line class="chart-grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}"/>'
            f'<text class="chart-tick" x="{x:.1f}" y="{bottom + 12}" '
            f'text-anchor="middle">{percent}%</text>'
        )
    return "".join(ticks)


def trend_chart(
    labels: Labels, variable: VariableDoc, by_round: TableDoc, anchor: str, title: str
) -> str | None:
    """An indicator across rounds, in time order: points, intervals and the target."""
    columns: Sequence[tuple[str, object]] = [
        (key, estimate)
        for key, estimate in zip(
            by_round["columns"][1:], by_round.get("estimates", [])[1:], strict=False
        )
        if key != COMBINED
    ]
    if len(columns) < 2:
        return None
    t = labels.translate
    height, left, right, top, bottom = 240, 50, WIDTH - 70, 15, 190
    step = (right - left) / max(1, len(columns) - 1)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value

    body = []
    for percent in (0, 25, 50, 75, 100):
        y = y_of(percent / 100)
        body.append(
            f'<line class="chart-grid" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>'
            f'<text class="chart-tick" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{percent}%</text>'
        )
    target = variable["target"]
    if target is not None:
        y = y_of(target)
        body.append(
            f'<line class="chart-target" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
            f'stroke-dasharray="6 4"/>'
        )
    previous: tuple[float, float] | None = None
    for index, (key, estimate) in enumerate(columns):
        x = left + step * index if len(columns) > 1 else (left + right) / 2
        body.append(
            f'<text class="chart-tick" x="{x:.1f}" y="{bottom + 18}" '
            f'text-anchor="middle">{escape(labels.group("round", key))}</text>'
        )
        if not isinstance(estimate, dict):
            marker = t(SUPPRESSED) if estimate == SUPPRESSED else t("no data")
            body.append(
                f'<text class="chart-marker" x="{x:.1f}" y="{(top + bottom) / 2:.1f}" '
                f'text-anchor="middle">{escape(marker)}</text>'
            )
            previous = None
            continue
        value = float(estimate["value"])
        low, high = y_of(float(estimate["lower"])), y_of(float(estimate["upper"]))
        point = y_of(value)
        if previous is not None:
            body.append(
                f'<line class="chart-trend" x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" '
                f'x2="{x:.1f}" y2="{point:.1f}"/>'
            )
        body.append(
            f'<line class="chart-whisker" x1="{x:.1f}" y1="{low:.1f}" x2="{x:.1f}" '
            f'y2="{high:.1f}"/><circle class="chart-point" cx="{x:.1f}" cy="{point:.1f}" r="5"/>'
            f'<text class="chart-value" x="{x + 8:.1f}" y="{point - 6:.1f}">'
            f"{_number(100 * value)}%</text>"
        )
        previous = (x, point)
    description = t(
        "The indicator in each round, in time order, with its 95% interval; the dashed line is "
        "the target. The table by round gives the same numbers."
    )
    return _svg(anchor, title, description, height, body)
