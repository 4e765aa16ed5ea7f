"""room for TOTP secrets sealed under the TOTP key (kept outside the database)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:30:00

Secrets stored before this stay readable as they are and are sealed at their next use; the
migration cannot seal them itself, since the key is not in the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret", existing_type=sa.String(64), type_=sa.String(128), existing_nullable=True
        )


def downgrade() -> None:
    # A sealed secret does not fit the old column: two-step sign-in is reset for those accounts.
    users = sa.table("users", sa.column("totp_secret", sa.String))
    op.execute(users.update().where(users.c.totp_secret.like("t1.%")).values(totp_secret=None))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret", existing_type=sa.String(128), type_=sa.String(64), existing_nullable=True
        )
