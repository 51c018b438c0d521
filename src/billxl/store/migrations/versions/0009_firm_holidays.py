"""firm holidays: the calendar of public holidays a scheduled invoice's due date moves off (blank: the firm's country and region's; 'none'; or one such as GB-ENG), and the firm's own closure dates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('firm') as batch:
        batch.add_column(sa.Column(
            'holidays', sa.String(length=20), nullable=True,
            comment="the public holidays due dates move off: NULL the country's and region's, "
                    "'none', or a calendar such as GB-ENG"))
        batch.add_column(sa.Column(
            'closure_dates', sa.JSON(), nullable=True,
            comment='days the firm is closed besides, as ISO dates'))


def downgrade() -> None:
    with op.batch_alter_table('firm') as batch:
        batch.drop_column('closure_dates')
        batch.drop_column('holidays')
