"""master data: a timekeeper's e-mail, a client's closing date, and where the firm keeps its guideline files

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('timekeepers') as batch:
        batch.add_column(sa.Column('email', sa.String(length=200), nullable=True,
                                   comment='e-mail, as time trackers such as Toggl export it'))
        batch.create_unique_constraint(op.f('uq_timekeepers_email'), ['email'])
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('closed_on', sa.Date(), nullable=True,
                                   comment='the day the firm stopped acting for the client'))
    with op.batch_alter_table('firm') as batch:
        batch.add_column(sa.Column('guidelines_dir', sa.String(length=500), nullable=True,
                                   comment="folder of the clients' billing-guideline files"))


def downgrade() -> None:
    with op.batch_alter_table('firm') as batch:
        batch.drop_column('guidelines_dir')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('closed_on')
    with op.batch_alter_table('timekeepers') as batch:
        batch.drop_constraint(op.f('uq_timekeepers_email'), type_='unique')
        batch.drop_column('email')
