"""a programme's "What you told us" page: the results an analyst chose, and whether it is public

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "results_page_published", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        "results_page_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("variable_id", sa.String(length=200), nullable=False),
        sa.Column("row_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_results_page_items_programme_id_programmes"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_results_page_items_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results_page_items")),
    )
    with op.batch_alter_table("results_page_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_results_page_items_programme_id"), ["programme_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("results_page_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_results_page_items_programme_id"))
    op.drop_table("results_page_items")
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch copy of `programmes` would drop the
    # table that memberships, links and keys refer to, which SQLite refuses once they exist.
    op.drop_column("programmes", "results_page_published")
