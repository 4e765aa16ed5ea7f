"""responses keep no arrival order: an inbox, released in random-id order into a table without
rowid; survey versions numbered instead of timed; daily respondent request counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = "id, survey_id, survey_version, period, key_id, sealed"


def _response_table(name: str, *, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("survey_version", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["programme_keys.key_id"], name=op.f(f"fk_{name}_key_id_programme_keys")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id", "survey_version"],
            ["survey_versions.survey_id", "survey_versions.version"],
            name=f"fk_{name}_survey_version",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sqlite_with_rowid=with_rowid,
    )


def _indexes(table: str, name: str) -> None:
    for column in ("key_id", "period", "survey_id"):
        op.create_index(op.f(f"ix_{name}_{column}"), table, [column], unique=False)


def _rebuild_responses(*, with_rowid: bool) -> None:
    # One transaction, rows copied in random-id order: on PostgreSQL they all get one xmin.
    _response_table("responses_rebuilt", with_rowid=with_rowid)
    op.execute(
        f"INSERT INTO responses_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM responses ORDER BY id"
    )
    op.drop_table("responses")
    op.rename_table("responses_rebuilt", "responses")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE responses RENAME CONSTRAINT pk_responses_rebuilt TO pk_responses")
        op.execute(
            "ALTER TABLE responses RENAME CONSTRAINT fk_responses_rebuilt_key_id_programme_keys "
            "TO fk_responses_key_id_programme_keys"
        )
        op.execute(
            "ALTER TABLE responses RENAME CONSTRAINT fk_responses_rebuilt_survey_version "
            "TO fk_responses_survey_version"
        )
    _indexes("responses", "responses")


def upgrade() -> None:
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordinal", sa.Integer(), nullable=True))
    versions = sa.table(
        "survey_versions",
        sa.column("survey_id", sa.String),
        sa.column("version", sa.String),
        sa.column("first_seen", sa.DateTime),
        sa.column("ordinal", sa.Integer),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(versions.c.survey_id, versions.c.version).order_by(
            versions.c.survey_id, versions.c.first_seen, versions.c.version
        )
    ).all()
    counters: dict[str, int] = {}
    for survey_id, version in rows:
        counters[survey_id] = counters.get(survey_id, 0) + 1
        bind.execute(
            sa.update(versions)
            .where(versions.c.survey_id == survey_id, versions.c.version == version)
            .values(ordinal=counters[survey_id])
        )
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.alter_column("ordinal", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("first_seen")

    _rebuild_responses(with_rowid=False)
    _response_table("response_inbox", with_rowid=False)
    _indexes("response_inbox", "response_inbox")
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_interval", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
    )
    op.create_table(
        "traffic_counts",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "route", "status", name=op.f("pk_traffic_counts")),
    )


def downgrade() -> None:
    op.drop_table("traffic_counts")
    op.drop_table("releases")
    op.execute(f"INSERT INTO responses ({_COLUMNS}) SELECT {_COLUMNS} FROM response_inbox")
    op.drop_table("response_inbox")
    _rebuild_responses(with_rowid=True)
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE survey_versions SET first_seen = CURRENT_TIMESTAMP")
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.alter_column(
            "first_seen", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("ordinal")
