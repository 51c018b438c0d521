"""LEDES submissions to e-billing portals and their status history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submissions',
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('portal', sa.String(length=40), nullable=False, comment='portal profile name'),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False, comment='1, then one more for each resubmission of the invoice to the portal'),
    sa.Column('file_name', sa.String(length=260), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='submitted', nullable=False, comment='the latest status in submission_events'),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=False),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("format IN ('1998B', '98BI', 'XML21')", name=op.f('ck_submissions_format')),
    sa.CheckConstraint("status IN ('submitted', 'accepted', 'rejected', 'appealed', 'resubmitted', 'paid')", name=op.f('ck_submissions_status')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_submissions_version')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_submissions_invoice_pk_invoices')),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('invoice_pk', 'portal', 'version', name=op.f('uq_submissions_invoice_pk_portal_version'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_invoice_pk'), ['invoice_pk'], unique=False)

    op.create_table('submission_events',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True, comment="why the portal rejected it (reasons separated by '; ')"),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name=op.f('ck_submission_events_reason')),
    sa.CheckConstraint("status IN ('submitted', 'accepted', 'rejected', 'appealed', 'resubmitted', 'paid')", name=op.f('ck_submission_events_status')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.submission_id'], name=op.f('fk_submission_events_submission_id_submissions')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_submission_events'))
    )
    with op.batch_alter_table('submission_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_events_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_events_submission_id'))

    op.drop_table('submission_events')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_invoice_pk'))

    op.drop_table('submissions')
