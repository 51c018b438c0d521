"""initial ledger: firm, offices, people, clients, matters, rates, time, expenses, audit

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False, comment='insert, update, delete, import'),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('row_key', sa.String(length=200), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_table_key', ['table_name', 'row_key'], unique=False)

    op.create_table('firm',
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('law_firm_id', sa.String(length=40), nullable=False, comment='tax id used as LEDES LAW_FIRM_ID'),
    sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False),
    sa.Column('rounding', sa.String(length=10), server_default='half_up', nullable=False),
    sa.Column('invoice_numbering', sa.String(length=10), server_default='firm', nullable=False, comment="'firm' or 'office': one gapless sequence per firm or per office"),
    sa.Column('address_1', sa.String(length=200), nullable=True),
    sa.Column('address_2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("invoice_numbering IN ('firm', 'office')", name=op.f('ck_firm_numbering')),
    sa.CheckConstraint("rounding IN ('half_up', 'half_even', 'half_down', 'down', 'up')", name=op.f('ck_firm_rounding')),
    sa.PrimaryKeyConstraint('firm_id', name=op.f('pk_firm'))
    )
    op.create_table('import_batches',
    sa.Column('batch_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('file_name', sa.String(length=260), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=60), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_new', sa.Integer(), nullable=False),
    sa.Column('rows_changed', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_import_batches'))
    )
    op.create_table('offices',
    sa.Column('office_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('office_id', name=op.f('pk_offices'))
    )
    op.create_table('clients',
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_jurisdiction', sa.String(length=10), nullable=True, comment='e.g. US-NY, GB, DE; drives VAT/GST'),
    sa.Column('payment_terms_days', sa.Integer(), server_default='30', nullable=False),
    sa.Column('ebilling_portal', sa.String(length=40), nullable=True, comment='portal profile name, NULL = paper/email'),
    sa.Column('guideline_set', sa.String(length=60), nullable=True, comment='billing-guideline file for this client'),
    sa.Column('rounding', sa.String(length=10), nullable=True, comment="overrides the firm's rounding rule"),
    sa.Column('ledes_client_id', sa.String(length=40), nullable=True, comment="the client's id for the firm in LEDES"),
    sa.Column('billing_contact', sa.String(length=200), nullable=True),
    sa.Column('address_1', sa.String(length=200), nullable=True),
    sa.Column('address_2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('tax_id', sa.String(length=40), nullable=True),
    sa.Column('office_id', sa.String(length=20), nullable=True),
    sa.CheckConstraint("rounding IS NULL OR rounding IN ('half_up', 'half_even', 'half_down', 'down', 'up')", name=op.f('ck_clients_rounding')),
    sa.CheckConstraint('payment_terms_days >= 0', name=op.f('ck_clients_terms')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.office_id'], name=op.f('fk_clients_office_id_offices')),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_clients'))
    )
    op.create_table('timekeepers',
    sa.Column('timekeeper_id', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=True, comment="name used by practice-management exports, e.g. 'Jane Smith'"),
    sa.Column('classification', sa.String(length=10), nullable=False, comment='LEDES classification: PARTNR, ASSOC, OFCOUN, PARLGL, LGLAST, OTHER'),
    sa.Column('office_id', sa.String(length=20), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.CheckConstraint('active_to IS NULL OR active_to >= active_from', name=op.f('ck_timekeepers_active_dates')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.office_id'], name=op.f('fk_timekeepers_office_id_offices')),
    sa.PrimaryKeyConstraint('timekeeper_id', name=op.f('pk_timekeepers')),
    sa.UniqueConstraint('user_name', name=op.f('uq_timekeepers_user_name'))
    )
    op.create_table('matters',
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('client_matter_id', sa.String(length=60), nullable=True, comment="the client's own matter reference"),
    sa.Column('practice_area', sa.String(length=40), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('billing_partner_id', sa.String(length=20), nullable=False),
    sa.Column('responsible_secretary', sa.String(length=100), nullable=True),
    sa.Column('office_id', sa.String(length=20), nullable=True),
    sa.Column('fee_arrangement', sa.String(length=20), server_default='hourly', nullable=False),
    sa.Column('fixed_fee_minor', sa.BigInteger(), nullable=True, comment='fixed or capped amount, minor units'),
    sa.Column('utbms_required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("fee_arrangement IN ('hourly', 'fixed', 'capped', 'retainer', 'milestone', 'contingency')", name=op.f('ck_matters_fee_arrangement')),
    sa.CheckConstraint('closed_on IS NULL OR closed_on >= opened_on', name=op.f('ck_matters_open_dates')),
    sa.ForeignKeyConstraint(['billing_partner_id'], ['timekeepers.timekeeper_id'], name=op.f('fk_matters_billing_partner_id_timekeepers')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_matters_client_id_clients')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.office_id'], name=op.f('fk_matters_office_id_offices')),
    sa.PrimaryKeyConstraint('matter_id', name=op.f('pk_matters'))
    )
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matters_billing_partner_id'), ['billing_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matters_client_id'), ['client_id'], unique=False)

    op.create_table('expenses',
    sa.Column('expense_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('source_key', sa.String(length=100), nullable=False),
    sa.Column('entry_id', sa.String(length=100), nullable=False),
    sa.Column('timekeeper_id', sa.String(length=20), nullable=True),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('expense_code', sa.String(length=10), nullable=True, comment='UTBMS expense code, e.g. E101'),
    sa.Column('quantity_milli', sa.BigInteger(), nullable=False),
    sa.Column('unit_cost_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('narrative', sa.Text(), server_default='', nullable=False),
    sa.Column('receipt_ref', sa.String(length=100), nullable=True),
    sa.Column('billable', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='WIP', nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('WIP', 'held', 'billed', 'written_off')", name=op.f('ck_expenses_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.batch_id'], name=op.f('fk_expenses_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_expenses_matter_id_matters')),
    sa.ForeignKeyConstraint(['timekeeper_id'], ['timekeepers.timekeeper_id'], name=op.f('fk_expenses_timekeeper_id_timekeepers')),
    sa.PrimaryKeyConstraint('expense_pk', name=op.f('pk_expenses')),
    sa.UniqueConstraint('source', 'source_key', name=op.f('uq_expenses_source_source_key'))
    )
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.create_index('ix_expenses_matter_status', ['matter_id', 'status'], unique=False)

    op.create_table('rates',
    sa.Column('rate_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False, comment='standard (firm list), override (client/matter agreed), approved (client-approved, a cap)'),
    sa.Column('timekeeper_id', sa.String(length=20), nullable=True),
    sa.Column('classification', sa.String(length=10), nullable=True),
    sa.Column('client_id', sa.String(length=20), nullable=True),
    sa.Column('matter_id', sa.String(length=30), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate_minor', sa.BigInteger(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.CheckConstraint("kind = 'standard' OR client_id IS NOT NULL OR matter_id IS NOT NULL", name=op.f('ck_rates_scope')),
    sa.CheckConstraint("kind IN ('standard', 'override', 'approved')", name=op.f('ck_rates_kind')),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_rates_dates')),
    sa.CheckConstraint('rate_minor >= 0', name=op.f('ck_rates_non_negative')),
    sa.CheckConstraint('timekeeper_id IS NOT NULL OR classification IS NOT NULL', name=op.f('ck_rates_who')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_rates_client_id_clients')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_rates_matter_id_matters')),
    sa.ForeignKeyConstraint(['timekeeper_id'], ['timekeepers.timekeeper_id'], name=op.f('fk_rates_timekeeper_id_timekeepers')),
    sa.PrimaryKeyConstraint('rate_id', name=op.f('pk_rates'))
    )
    with op.batch_alter_table('rates', schema=None) as batch_op:
        batch_op.create_index('ix_rates_lookup', ['timekeeper_id', 'classification', 'effective_from'], unique=False)

    op.create_table('time_entries',
    sa.Column('entry_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False, comment='system the entry came from'),
    sa.Column('source_key', sa.String(length=100), nullable=False, comment='its id in that system'),
    sa.Column('entry_id', sa.String(length=100), nullable=False, comment='id shown to users'),
    sa.Column('timekeeper_id', sa.String(length=20), nullable=False),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('hours_milli', sa.BigInteger(), nullable=False),
    sa.Column('rate_minor', sa.BigInteger(), nullable=True, comment='rate as recorded by the source'),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True, comment='amount as recorded by the source'),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('narrative', sa.Text(), server_default='', nullable=False),
    sa.Column('task_code', sa.String(length=10), nullable=True),
    sa.Column('activity_code', sa.String(length=10), nullable=True),
    sa.Column('billable', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='WIP', nullable=False),
    sa.Column('entered_on', sa.Date(), nullable=True, comment='when the timekeeper recorded it, if known'),
    sa.Column('row_hash', sa.String(length=32), nullable=False, comment='content hash, detects changes'),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('WIP', 'held', 'billed', 'written_off')", name=op.f('ck_time_entries_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.batch_id'], name=op.f('fk_time_entries_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_time_entries_matter_id_matters')),
    sa.ForeignKeyConstraint(['timekeeper_id'], ['timekeepers.timekeeper_id'], name=op.f('fk_time_entries_timekeeper_id_timekeepers')),
    sa.PrimaryKeyConstraint('entry_pk', name=op.f('pk_time_entries')),
    sa.UniqueConstraint('source', 'source_key', name=op.f('uq_time_entries_source_source_key'))
    )
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.create_index('ix_time_entries_matter_status', ['matter_id', 'status'], unique=False)
        batch_op.create_index('ix_time_entries_tk_date', ['timekeeper_id', 'work_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_time_entries_tk_date')
        batch_op.drop_index('ix_time_entries_matter_status')

    op.drop_table('time_entries')
    with op.batch_alter_table('rates', schema=None) as batch_op:
        batch_op.drop_index('ix_rates_lookup')

    op.drop_table('rates')
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_index('ix_expenses_matter_status')

    op.drop_table('expenses')
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matters_client_id'))
        batch_op.drop_index(batch_op.f('ix_matters_billing_partner_id'))

    op.drop_table('matters')
    op.drop_table('timekeepers')
    op.drop_table('clients')
    op.drop_table('offices')
    op.drop_table('import_batches')
    op.drop_table('firm')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_table_key')

    op.drop_table('audit_log')
