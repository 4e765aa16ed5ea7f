"""a survey's policy brief: the key findings written for a period, and the approved quotes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "briefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_briefs_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefs")),
        sa.UniqueConstraint("survey_id", "period", name=op.f("uq_briefs_survey_id")),
    )
    op.create_table(
        "brief_quotes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_brief_quotes_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brief_quotes")),
    )
    with op.batch_alter_table("brief_quotes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_brief_quotes_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("brief_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brief_quotes_survey_id"))
    op.drop_table("brief_quotes")
    op.drop_table("briefs")
