"""What each report page shows, in order: built from the published snapshot only.

* The summary: the scorecard (``summary``), then the questions grouped as the survey's pages
  group them, each with one chart and its table over the responses in view.
* Breakdowns, one dimension at a time: every cross-tab by that dimension, indicators first
  with a chart of each group against the target (and of each round, for the rounds).

Which chart draws which table is decided in one place, ``chart_for``; charts are built from
the same tables the grids show, so a chart and its table never disagree. The survey definition is used for section titles only; a question the current
definition no longer has goes under "Other questions".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from ..definitions import Survey
from ..messages import N_
from . import charts
from .plan import ROUND, VariableKind
from .presentation import Grid, Labels, grid, groups_only, ordered_tables
from .snapshot import SnapshotDoc, TableDoc, VariableDoc, ViewDoc


@dataclass(frozen=True)
class Item:
    """One question or indicator on a page: its chart (if any) and its table."""

    variable: VariableDoc
    title: str
    anchor: str
    charts: list[Markup]
    grid: Grid
    # Its cross-tabs by the breakdowns the report plan shows with every question.
    breakdowns: tuple[Grid, ...] = ()


@dataclass
class Section:
    """Questions shown together under one heading (a page of the survey)."""

    key: str
    title: str
    items: list[Item] = field(default_factory=list)


def anchor_of(variable: VariableDoc, suffix: str = "") -> str:
    return f"q-{variable['id']}{suffix}".replace(":", "-")


def _safe(svg: str | None) -> list[Markup]:
    # Built from escaped text only (see reports.charts).
    return [Markup(svg)] if svg else []  # noqa: S704


def chart_for(labels: Labels, variable: VariableDoc, table: TableDoc, anchor: str) -> list[Markup]:
    """Which chart draws ``table`` of ``variable``, decided here for every page:

    * a question over everyone (no breakdown): its answers as bars (for the kinds
      ``charts.bar_chart`` draws);
    * an indicator by round: its trend, or each round against the target when there is no
      trend to draw;
    * an indicator by another dimension: each group against the target;
    * a question's breakdown, and any table withheld: no chart (the table says it all).
    """
    if table["withheld"]:
        return []
    title = labels.variable(variable)
    anchor = f"{anchor}-c"
    if variable["kind"] != VariableKind.INDICATOR.value:
        if table["dimension"] is not None:
            return []
        return _safe(charts.bar_chart(labels, variable, table, 0, anchor, title))
    if table["dimension"] is None:
        return []
    found: list[Markup] = []
    if table["dimension"] == ROUND:
        found = _safe(charts.trend_chart(labels, variable, table, anchor, title))
    return found or _safe(charts.indicator_chart(labels, variable, table, anchor, title))


def sections(
    labels: Labels, view: ViewDoc, survey: Survey | None, *, with_breakdowns: bool = True
) -> list[Section]:
    """The questions of the view (not the indicators), one section per survey page, each with
    its cross-tabs by the breakdowns the report plan features (not by the view's own one).

    The printed report leaves them out (``with_breakdowns=False``): with them it no longer
    fits its twelve pages (14 and 18 pages for the example surveys with two breakdowns)."""
    planned = labels.document.get("featured_breakdowns", []) if with_breakdowns else []
    featured = [dimension for dimension in planned if dimension != view["dimension"]]
    found: dict[str, Section] = {}
    for variable, tables in ordered_tables(labels.document, view):
        if variable["kind"] == VariableKind.INDICATOR.value:
            continue
        key, title = _section_of(labels, variable, survey)
        section = found.setdefault(key, Section(key, title))
        by_dimension = {t["dimension"]: t for t in tables["crosstabs"]}
        section.items.append(
            Item(
                variable,
                labels.variable(variable),
                anchor_of(variable),
                chart_for(labels, variable, tables["frequency"], anchor_of(variable)),
                grid(labels, variable, tables["frequency"], view),
                tuple(
                    groups_only(grid(labels, variable, by_dimension[dimension], view))
                    for dimension in featured
                    if dimension in by_dimension
                ),
            )
        )
    return list(found.values())


def _section_of(labels: Labels, variable: VariableDoc, survey: Survey | None) -> tuple[str, str]:
    if survey is None or not survey.has_question(variable["id"]):
        return "_other", labels.translate(N_("Other questions"))
    page = survey.page_of(variable["id"])
    if page.title is None:
        return page.id, labels.translate(N_("Questions"))
    return page.id, page.title.get(labels.language, labels.document["default_language"])


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str


def breakdown_dimensions(labels: Labels, document: SnapshotDoc) -> list[Dimension]:
    """Dimensions with at least one published cross-tab, in the snapshot's order."""
    everyone = document["views"][0]
    published = {
        table["dimension"]
        for tables in everyone["tables"].values()
        for table in tables["crosstabs"]
        if table["dimension"] is not None
    }
    return [
        Dimension(d["id"], labels.dimension(d["id"]))
        for d in document["dimensions"]
        if d["id"] in published
    ]


def breakdown_items(labels: Labels, document: SnapshotDoc, dimension_id: str) -> list[Item]:
    """Every cross-tab by ``dimension_id`` over everyone; indicators first, with charts."""
    everyone = document["views"][0]
    items = []
    for variable, tables in ordered_tables(document, everyone):
        table = next((t for t in tables["crosstabs"] if t["dimension"] == dimension_id), None)
        if table is None:
            continue
        anchor = anchor_of(variable, f"-by-{dimension_id}")
        title = labels.variable(variable)
        found = chart_for(labels, variable, table, anchor)
        items.append(Item(variable, title, anchor, found, grid(labels, variable, table, everyone)))
    return items
