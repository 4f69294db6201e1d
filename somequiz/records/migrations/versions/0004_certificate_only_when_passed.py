"""certificate code only for a passed course

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A failed course has no certificate: the code becomes optional. Codes already given to
    # failed courses stay (they are signed); the course no longer shows them.
    with op.batch_alter_table("completions") as batch:
        batch.alter_column("certificate_code", existing_type=sa.String(length=20), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("completions") as batch:
        batch.alter_column("certificate_code", existing_type=sa.String(length=20), nullable=False)
