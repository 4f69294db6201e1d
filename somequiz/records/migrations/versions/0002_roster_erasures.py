"""roster, erasure log and indexes for retention and exports

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster",
        sa.Column("employee_number", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("employee_number"),
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers_deleted", sa.Integer(), nullable=False),
        sa.Column("flags_deleted", sa.Integer(), nullable=False),
        sa.Column("completions_kept", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_answers_answered_at", "answers", ["answered_at"])
    op.create_index("ix_completions_completed_at", "completions", ["completed_at"])
    op.create_index("ix_learners_employee_number", "learners", ["employee_number"])


def downgrade() -> None:
    op.drop_index("ix_learners_employee_number", table_name="learners")
    op.drop_index("ix_completions_completed_at", table_name="completions")
    op.drop_index("ix_answers_answered_at", table_name="answers")
    op.drop_table("erasures")
    op.drop_table("roster")
