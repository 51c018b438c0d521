"""billing cycles: a client's or a matter's cycle and the day it falls, and how the firm moves a scheduled invoice's date off a weekend

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

CYCLES = "'monthly', 'quarterly', 'milestones', 'completion', 'on_request'"
WEEKEND_RULES = "'modified_following', 'following', 'preceding', 'none'"


def upgrade() -> None:
    for table in ('clients', 'matters'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(
                'billing_cycle', sa.String(length=12), nullable=True,
                comment='monthly, quarterly, milestones, completion or on_request'))
            batch.add_column(sa.Column(
                'billing_day', sa.Integer(), nullable=True,
                comment='the day of the month the cycle falls (NULL: the last day)'))
            batch.create_check_constraint(
                op.f(f'ck_{table}_billing_cycle'),
                f'billing_cycle IS NULL OR billing_cycle IN ({CYCLES})')
            batch.create_check_constraint(
                op.f(f'ck_{table}_billing_day'),
                'billing_day IS NULL OR billing_day BETWEEN 1 AND 31')
    with op.batch_alter_table('firm') as batch:
        batch.add_column(sa.Column(
            'weekend_rule', sa.String(length=20), nullable=False,
            server_default='modified_following',
            comment='a scheduled invoice dated on a weekend moves to the next working day '
                    '(or the one before), or stays'))
        batch.create_check_constraint(op.f('ck_firm_weekend_rule'),
                                      f'weekend_rule IN ({WEEKEND_RULES})')


def downgrade() -> None:
    with op.batch_alter_table('firm') as batch:
        batch.drop_constraint(op.f('ck_firm_weekend_rule'), type_='check')
        batch.drop_column('weekend_rule')
    for table in ('matters', 'clients'):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'ck_{table}_billing_day'), type_='check')
            batch.drop_constraint(op.f(f'ck_{table}_billing_cycle'), type_='check')
            batch.drop_column('billing_day')
            batch.drop_column('billing_cycle')
