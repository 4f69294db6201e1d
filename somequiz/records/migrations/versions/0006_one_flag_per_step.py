"""one flag per step

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keep each step's latest note: a page could store thousands (issue: unlimited notes).
    op.execute(
        "DELETE FROM flags WHERE id NOT IN "
        "(SELECT keep FROM (SELECT max(id) AS keep FROM flags "
        "GROUP BY attempt_id, scenario_id, step_id) AS latest)"
    )
    with op.batch_alter_table("flags") as batch:
        batch.create_unique_constraint("uq_flag_step", ["attempt_id", "scenario_id", "step_id"])


def downgrade() -> None:
    with op.batch_alter_table("flags") as batch:
        batch.drop_constraint("uq_flag_step", type_="unique")
