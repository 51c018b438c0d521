"""findings and their review status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('findings',
    sa.Column('finding_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('entry_kind', sa.String(length=8), nullable=False, comment='time or expense'),
    sa.Column('entry_pk', sa.BigInteger(), nullable=False, comment='time_entries.entry_pk or expenses.expense_pk'),
    sa.Column('entry_id', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=40), server_default='', nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('suggestion', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('entry_hash', sa.String(length=32), nullable=False, comment="the entry's row_hash when last seen; a waiver holds while it is unchanged"),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_by', sa.String(length=100), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("entry_kind IN ('time', 'expense')", name=op.f('ck_findings_kind')),
    sa.CheckConstraint("status <> 'waived' OR (status_reason IS NOT NULL AND status_by IS NOT NULL)", name=op.f('ck_findings_waiver_reason')),
    sa.CheckConstraint("status IN ('open', 'queried', 'resolved', 'waived')", name=op.f('ck_findings_status')),
    sa.PrimaryKeyConstraint('finding_id', name=op.f('pk_findings')),
    sa.UniqueConstraint('rule', 'entry_kind', 'entry_pk', 'field', name=op.f('uq_findings_rule_entry_kind_entry_pk_field'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_status_rule', ['status', 'rule'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_status_rule')

    op.drop_table('findings')
