"""A survey's two-page policy brief, for local government and partners.

The brief is made of published content only:

* the indicators against their targets, from the newest published report (``summary``);
* three to five key findings an analyst writes for the report's period, starting from sentences
  drafted from the report, each ending with a placeholder in square brackets that says what
  to add; a brief is published only once no placeholder is left;
* quotes: redacted free-text answers an analyst explicitly approved while reading them. An
  approved quote is published content, kept beside the published reports: only its redacted
  words and the question it answered, under a random id, with no response id, no time and no
  order that could lead back to a response. Approving and withdrawing are audited without the
  words, so that a withdrawn quote is gone everywhere but from the analyst's memory;
* the method and protection, in one paragraph.

A quote can only be approved from the free-text page: each answer shown there carries a token
signed with the application's secret key that names the survey, the question and the redacted
words, and expires. The server never takes quote words from a form, so no one can approve a
raw answer, or words no answer said.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..messages import N_, DomainError
from ..models import Brief, BriefQuote
from ..staff import audit
from .plan import ALL
from .presentation import Labels
from .redaction import Redactor
from .results_page import findings as published_shares
from .snapshot import SnapshotDoc, view_by_id
from .summary import number, scorecard, sentence

MIN_FINDINGS = 3
MAX_FINDINGS = 5
MAX_FINDING_LENGTH = 600
MAX_QUOTES = 4  # with the rest, the brief must still print on two A4 pages
MAX_QUOTE_LENGTH = 400
QUOTE_TOKEN_AGE = 2 * 60 * 60  # seconds: the free-text page is read, then quotes approved
PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")
_SALT = "brief-quote"


class BriefError(DomainError):
    """A brief or a quote that cannot be saved as asked."""


class TooFewFindings(BriefError):
    message_id = N_(
        "Write at least %(least)d key findings to publish the brief (at most %(most)d), or save "
        "it without publishing."
    )

    def __init__(self) -> None:
        super().__init__(least=MIN_FINDINGS, most=MAX_FINDINGS)


class TooManyFindings(BriefError):
    message_id = N_("Write at most %(most)d key findings: the brief must fit on two pages.")

    def __init__(self) -> None:
        super().__init__(most=MAX_FINDINGS)


class FindingTooLong(BriefError):
    message_id = N_(
        "Key finding %(number)d is too long: keep each under %(most)d characters, so that the "
        "brief fits on two pages."
    )

    def __init__(self, position: int) -> None:
        super().__init__(number=position, most=MAX_FINDING_LENGTH)


class PlaceholderLeft(BriefError):
    message_id = N_(
        "Key finding %(number)d still has a placeholder in square brackets: replace it with "
        "your own words before publishing, or save without publishing."
    )

    def __init__(self, position: int) -> None:
        super().__init__(number=position)


class QuoteNotValid(BriefError):
    message_id = N_(
        "This quote cannot be approved: it does not come from the free-text page of this "
        "survey, or that page is more than two hours old. Read the free-text answers again."
    )


class QuoteTooLong(BriefError):
    message_id = N_(
        "An answer longer than %(most)d characters cannot be a quote in a two-page brief."
    )

    def __init__(self) -> None:
        super().__init__(most=MAX_QUOTE_LENGTH)


class TooManyQuotes(BriefError):
    message_id = N_(
        "A brief holds at most %(most)d quotes, so that it fits on two pages: withdraw one first."
    )

    def __init__(self) -> None:
        super().__init__(most=MAX_QUOTES)


class NoQuoteChosen(BriefError):
    message_id = N_("Tick at least one answer to approve it as a quote.")


class UnknownQuote(BriefError):
    message_id = N_("There is no such quote: it may have been withdrawn already.")


def period_of(document: SnapshotDoc) -> str:
    """The published rounds a report counts, as ``first/last`` quarter; "all" with no rounds.

    A brief is written for one period: after a refresh that publishes another round the
    findings written for the earlier period are kept for it, and a new brief is drafted."""
    quarters = sorted(q for r in document["rounds"] for q in r["quarters"])
    return f"{quarters[0]}/{quarters[-1]}" if quarters else "all"


def draft_findings(labels: Labels) -> list[str]:
    """Key findings drafted from the published report, for the analyst to finish: the
    indicators furthest from their targets, then the most common answers, each ending with a
    placeholder."""
    document = labels.document
    view = view_by_id(document, ALL)
    if view is None:
        return []
    ask = labels.say(N_("[Say what this means for services and policy in the area.]"))
    drafts = []
    scores = [s for s in scorecard(labels, view) if s.value is not None]
    scores.sort(key=lambda s: -abs(s.gap) if s.gap is not None else 0.0)
    for score in scores[:3]:
        assert score.value is not None
        drafts.append(f"{score.label}: {number(score.value)}%. {sentence(labels, score)} {ask}")
    seen: set[str] = set()
    shares = sorted(
        (f for f in published_shares(document) if f.ref.row_key),
        key=lambda f: -f.percent,
    )
    for share in shares:
        if len(drafts) >= MAX_FINDINGS - 1:
            break
        if share.ref.variable_id in seen:
            continue
        seen.add(share.ref.variable_id)
        said = labels.say(
            N_("%(percent)s%% of those who answered “%(question)s” said “%(answer)s”."),
            percent=number(share.percent),
            question=share.question(labels),
            answer=share.answer(labels) or "",
        )
        drafts.append(f"{said} {ask}")
    return drafts


@dataclass(frozen=True)
class BriefText:
    findings: list[str]
    published: bool
    saved: bool  # False: nothing saved yet for this period, `findings` are drafts


def load(session: Session, survey_id: str, period: str, labels: Labels) -> BriefText:
    row = session.scalars(
        select(Brief).where(Brief.survey_id == survey_id, Brief.period == period)
    ).first()
    if row is None:
        return BriefText(draft_findings(labels), False, False)
    return BriefText(list(row.findings), row.published, True)


def save(
    session: Session,
    actor: audit.Actor,
    programme_id: int,
    survey_id: str,
    period: str,
    written: Sequence[str],
    *,
    publish: bool,
) -> list[str]:
    """Keep the key findings of the period's brief, and publish or withdraw it; audited.

    Empty findings are left out. Publishing needs three to five findings, none with a
    placeholder left."""
    findings = [text.strip() for text in written if text.strip()]
    if len(findings) > MAX_FINDINGS:
        raise TooManyFindings()
    for position, text in enumerate(findings, start=1):
        if len(text) > MAX_FINDING_LENGTH:
            raise FindingTooLong(position)
    if publish:
        if len(findings) < MIN_FINDINGS:
            raise TooFewFindings()
        for position, text in enumerate(findings, start=1):
            if PLACEHOLDER.search(text):
                raise PlaceholderLeft(position)
    row = session.scalars(
        select(Brief).where(Brief.survey_id == survey_id, Brief.period == period)
    ).first()
    if row is None:
        row = Brief(survey_id=survey_id, period=period)
        session.add(row)
    row.findings = findings
    row.published = publish
    state = "published" if publish else "not published"
    detail = f"{survey_id}, period {period}: {state}, {len(findings)} key findings"
    audit.record(session, actor.name, "brief.change", programme_id, detail)
    return findings


def record_download(
    session: Session,
    actor: audit.Actor,
    programme_id: int,
    survey_id: str,
    period: str,
    published: bool,
) -> None:
    """Audit a download of the brief as a document, like every download of a report."""
    state = "published" if published else "draft"
    detail = f"{survey_id}, period {period} ({state}): docx"
    audit.record(session, actor.name, "brief.download", programme_id, detail)


# --- quotes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    id: str
    question_id: str
    text: str


def quote_token(secret_key: str, survey_id: str, question_id: str, redacted: str) -> str:
    """What the free-text page puts beside a redacted answer, for approving it as a quote."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    return str(serializer.dumps([survey_id, question_id, redacted]))


def _open_token(secret_key: str, survey_id: str, token: str) -> tuple[str, str]:
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    try:
        found = serializer.loads(token, max_age=QUOTE_TOKEN_AGE)
    except BadSignature:
        raise QuoteNotValid() from None
    if not (isinstance(found, list) and len(found) == 3 and all(isinstance(p, str) for p in found)):
        raise QuoteNotValid()
    if found[0] != survey_id:
        raise QuoteNotValid()
    return found[1], found[2]


def quotes(session: Session, survey_id: str) -> list[Quote]:
    """The survey's approved quotes, by question, then in alphabetical order (not the order
    they were approved in)."""
    rows = session.scalars(
        select(BriefQuote)
        .where(BriefQuote.survey_id == survey_id)
        .order_by(BriefQuote.question_id, BriefQuote.text)
    ).all()
    return [Quote(r.id, r.question_id, r.text) for r in rows]


def approve(
    session: Session,
    actor: audit.Actor,
    programme_id: int,
    survey_id: str,
    tokens: Sequence[str],
    *,
    secret_key: str,
    redactor: Redactor,
) -> int:
    """Keep the redacted answers the tokens name as the survey's quotes; how many are new.

    Each is redacted once more before it is kept (redacting redacted words changes nothing,
    so a token made before a change of the redaction rules cannot carry what they now catch).
    Audited per quote, without its words."""
    if not tokens:
        raise NoQuoteChosen()
    chosen: list[tuple[str, str]] = []
    for token in tokens:
        question_id, words = _open_token(secret_key, survey_id, token)
        words = redactor.redact(words).strip()
        if len(words) > MAX_QUOTE_LENGTH:
            raise QuoteTooLong()
        if words and (question_id, words) not in chosen:
            chosen.append((question_id, words))
    kept = {(q.question_id, q.text) for q in quotes(session, survey_id)}
    new = [item for item in chosen if item not in kept]
    count = session.scalar(
        select(func.count()).select_from(BriefQuote).where(BriefQuote.survey_id == survey_id)
    )
    if (count or 0) + len(new) > MAX_QUOTES:
        raise TooManyQuotes()
    for question_id, words in new:
        quote_id = secrets.token_hex(8)
        session.add(
            BriefQuote(id=quote_id, survey_id=survey_id, question_id=question_id, text=words)
        )
        detail = f"{survey_id}: quote {quote_id} approved, an answer to {question_id}"
        audit.record(session, actor.name, "brief.quote-approve", programme_id, detail)
    return len(new)


def withdraw(
    session: Session, actor: audit.Actor, programme_id: int, survey_id: str, quote_id: str
) -> None:
    """Delete an approved quote: it leaves every brief of the survey at once; audited."""
    removed = session.execute(
        delete(BriefQuote).where(BriefQuote.survey_id == survey_id, BriefQuote.id == quote_id)
    )
    if not getattr(removed, "rowcount", 0):
        raise UnknownQuote()
    detail = f"{survey_id}: quote {quote_id} withdrawn"
    audit.record(session, actor.name, "brief.quote-withdraw", programme_id, detail)
