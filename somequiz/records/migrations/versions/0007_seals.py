"""seals: who a completion belongs to, how many there were, and the answers behind them

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Signed with the key, which a migration does not have: rows stored before this revision
    # stay unsealed until `somequiz db upgrade` seals them (verify reports them until then).
    with op.batch_alter_table("learners") as batch:
        batch.add_column(sa.Column("identity_seal", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("completions_sealed", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("count_seal", sa.String(length=64), nullable=True))
    with op.batch_alter_table("completions") as batch:
        batch.add_column(sa.Column("answers_signature", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("completions") as batch:
        batch.drop_column("answers_signature")
    with op.batch_alter_table("learners") as batch:
        batch.drop_column("count_seal")
        batch.drop_column("completions_sealed")
        batch.drop_column("identity_seal")
