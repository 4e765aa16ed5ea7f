"""Inline SVG charts of published tables: answers as bars, indicators with their intervals.

Each chart is an image with a title and a description naming the table it draws, and the page
shows that table beside it: the table is the chart's text alternative. A suppressed value is
never drawn as a bar or a point: its place says "not shown", and a chart with nothing left to
draw is not drawn (its table says the same). Colours come from classes in the
report style sheet (the content security policy allows no inline styles); geometry uses SVG
presentation attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ..messages import N_
from .groups import COMBINED
from .plan import VariableKind
from .presentation import Labels
from .snapshot import SUPPRESSED, TableDoc, VariableDoc

WIDTH = 640
NOT_SHOWN = N_("not shown")  # how a suppressed value is marked wherever it is shown
TARGET = N_("target")
ROUND_WORD = N_("Round")
COUNTED = N_("%% of those counted")
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
    if all(bar.suppressed for bar in bars):
        return None  # nothing to draw: the table says "not shown"
    t = labels.say
    height = TOP * 2 + ROW_HEIGHT * len(bars) + 24
    scale = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = [
        _axis_title(t(N_("%% of those who answered")), TOP + ROW_HEIGHT * len(bars) + 18, scale),
        f'<line class="chart-axis" x1="{LABEL_WIDTH}" y1="{TOP}" x2="{LABEL_WIDTH}" '
        f'y2="{TOP + ROW_HEIGHT * len(bars)}"/>',
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
                f"{escape(t(NOT_SHOWN))}</text>"
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
        N_(
            "Bar chart of the percentage giving each answer, out of those who answered. "
            "The table that follows gives the same numbers."
        )
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
    if all(row.value is None for row in rows):
        return None  # nothing to draw: the table says why
    t = labels.say
    scale = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = TOP + 40  # room for the legend and the target's label
    height = top + TOP + ROW_HEIGHT * len(rows) + 36
    bottom = top + ROW_HEIGHT * len(rows)
    body = [
        _legend(labels, variable["target"] is not None, 12),
        _percent_axis(top, bottom, scale),
        _axis_title(t(COUNTED), bottom + 30, scale),
    ]
    target = variable["target"]
    if target is not None:
        x = LABEL_WIDTH + scale * target
        body.append(
            f'<line class="chart-target" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke-dasharray="6 4"/><text class="chart-target-label" x="{x:.1f}" '
            f'y="{top - 5}" text-anchor="middle">{escape(t(TARGET))} '
            f"{_number(100 * target)}%</text>"
        )
    for index, row in enumerate(rows):
        y = top + index * ROW_HEIGHT + ROW_HEIGHT / 2
        body.append(_label(row.label, LABEL_WIDTH - 8, y + 4))
        if row.value is None:
            marker = t(NOT_SHOWN) if row.suppressed else t(N_("no data"))
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
        N_(
            "Each group's percentage is a dot; the line through it is its 95%% interval, the range "
            "we are 95%% sure the true share lies in; the dashed line is the target. The table "
            "that follows gives the same numbers."
        )
    )
    return _svg(anchor, title, description, height, body)


def _axis_title(title: str, y: float, scale: float) -> str:
    return (
        f'<text class="chart-axis-title" x="{LABEL_WIDTH + scale / 2:.1f}" y="{y:.1f}" '
        f'text-anchor="middle">{escape(title)}</text>'
    )


def _legend(labels: Labels, target: bool, y: float) -> str:
    """What the dot, the line through it and the dashed line are, drawn as they are drawn."""
    t = labels.say
    estimate, interval, target_word = t(N_("estimate")), t(N_("95%% interval")), t(TARGET)
    parts = [
        f'<circle class="chart-point chart-key" cx="{LABEL_WIDTH - 60}" cy="{y}" r="5"/>'
        f'<text class="chart-tick" x="{LABEL_WIDTH - 50}" y="{y + 4}">'
        f"{escape(estimate)}</text>",
        f'<line class="chart-whisker" x1="{LABEL_WIDTH + 40}" y1="{y}" x2="{LABEL_WIDTH + 70}" '
        f'y2="{y}"/><text class="chart-tick" x="{LABEL_WIDTH + 76}" y="{y + 4}">'
        f"{escape(interval)}</text>",
    ]
    if target:
        parts.append(
            f'<line class="chart-target" x1="{LABEL_WIDTH + 180}" y1="{y}" '
            f'x2="{LABEL_WIDTH + 210}" y2="{y}" stroke-dasharray="6 4"/>'
            f'<text class="chart-tick" x="{LABEL_WIDTH + 216}" y="{y + 4}">'
            f"{escape(target_word)}</text>"
        )
    return '<g class="chart-legend" aria-hidden="true">' + "".join(parts) + "</g>"


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
    if sum(isinstance(estimate, dict) for _, estimate in columns) < 2:
        return None  # no trend from fewer than two estimates shown
    t = labels.say
    height, left, right, top, bottom = 290, 60, WIDTH - 90, 45, 220
    step = (right - left) / max(1, len(columns) - 1)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value

    body = [
        _legend(labels, variable["target"] is not None, 12),
        f'<text class="chart-axis-title" x="{(left + right) / 2:.1f}" y="{height - 8}" '
        f'text-anchor="middle">{escape(t(ROUND_WORD))}</text>'
        f'<text class="chart-axis-title" x="12" y="{(top + bottom) / 2:.1f}" '
        f'text-anchor="middle" transform="rotate(-90 12 {(top + bottom) / 2:.1f})">'
        f"{escape(t(COUNTED))}</text>",
    ]
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
            f'stroke-dasharray="6 4"/><text class="chart-target-label" x="{right + 6}" '
            f'y="{y + 4:.1f}">{escape(t(TARGET))} {_number(100 * target)}%</text>'
        )
    previous: tuple[float, float] | None = None
    for index, (key, estimate) in enumerate(columns):
        x = left + step * index if len(columns) > 1 else (left + right) / 2
        body.append(
            f'<text class="chart-tick" x="{x:.1f}" y="{bottom + 18}" '
            f'text-anchor="middle">{escape(labels.group("round", key))}</text>'
        )
        if not isinstance(estimate, dict):
            marker = t(NOT_SHOWN) if estimate == SUPPRESSED else t(N_("no data"))
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
        N_(
            "The indicator in each round, in time order: a dot, and a line for its 95%% interval, "
            "the range we are 95%% sure the true share lies in; the dashed line is the target. "
            "The table that follows gives the same numbers."
        )
    )
    return _svg(anchor, title, description, height, body)
