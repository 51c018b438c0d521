"""billing terms, pre-bills, invoices and credit notes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


IMMUTABLE = ("invoices", "invoice_lines")
_MESSAGE = "a final invoice cannot be changed or deleted; correct it with a credit note"


def _refuse_changes() -> None:
    """Final invoices are immutable in the store itself, not only in Python."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION billxl_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END $$""")
        for table in IMMUTABLE:
            op.execute(f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION billxl_refuse_change()")
    else:
        for table in IMMUTABLE:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


def _allow_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS billxl_refuse_change()")
    else:
        for table in IMMUTABLE:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")


def upgrade() -> None:
    op.create_table('invoice_sequences',
    sa.Column('scope', sa.String(length=20), nullable=False, comment="'firm' or an office id"),
    sa.Column('prefix', sa.String(length=10), server_default='', nullable=False),
    sa.Column('next_number', sa.BigInteger(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_invoice_sequences'))
    )
    op.create_table('tax_rates',
    sa.Column('tax_rate_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('jurisdiction', sa.String(length=10), nullable=False),
    sa.Column('tax_type', sa.String(length=10), nullable=False, comment='VAT, GST, SALES'),
    sa.Column('applies_to', sa.String(length=10), nullable=False, comment='fees, expenses or both'),
    sa.Column('percent', sa.String(length=12), nullable=False, comment='exact decimal text, e.g. 20'),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.CheckConstraint("applies_to IN ('fees','expenses','both')", name=op.f('ck_tax_rates_applies_to')),
    sa.PrimaryKeyConstraint('tax_rate_id', name=op.f('pk_tax_rates'))
    )
    op.create_table('fixed_fees',
    sa.Column('fixed_fee_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=True, comment='UTBMS phase or task code; NULL for the matter'),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_fixed_fees_matter_id_matters')),
    sa.PrimaryKeyConstraint('fixed_fee_id', name=op.f('pk_fixed_fees')),
    sa.UniqueConstraint('matter_id', 'code', name=op.f('uq_fixed_fees_matter_id_code'))
    )
    with op.batch_alter_table('fixed_fees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fixed_fees_matter_id'), ['matter_id'], unique=False)

    op.create_table('invoice_schedules',
    sa.Column('schedule_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False, comment='installment, retainer or milestone'),
    sa.Column('due_on', sa.Date(), nullable=True, comment='date the invoice is due to be raised'),
    sa.Column('trigger', sa.String(length=200), nullable=True, comment="milestone event, e.g. 'signing'"),
    sa.Column('triggered_on', sa.Date(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('invoice_pk', sa.BigInteger(), nullable=True, comment='set when invoiced'),
    sa.CheckConstraint("kind IN ('installment','retainer','milestone')", name=op.f('ck_invoice_schedules_kind')),
    sa.CheckConstraint('due_on IS NOT NULL OR trigger IS NOT NULL', name=op.f('ck_invoice_schedules_when')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_invoice_schedules_matter_id_matters')),
    sa.PrimaryKeyConstraint('schedule_id', name=op.f('pk_invoice_schedules'))
    )
    with op.batch_alter_table('invoice_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_schedules_matter_id'), ['matter_id'], unique=False)

    op.create_table('matter_payors',
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('percent', sa.String(length=12), nullable=False, comment='exact decimal text; sums to 100'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_matter_payors_client_id_clients')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_matter_payors_matter_id_matters')),
    sa.PrimaryKeyConstraint('matter_id', 'client_id', name=op.f('pk_matter_payors'))
    )
    op.create_table('matter_terms',
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('discount_percent', sa.String(length=12), nullable=True, comment='exact decimal text; negative = premium'),
    sa.Column('discount_minor', sa.BigInteger(), nullable=True, comment='fixed discount per invoice'),
    sa.Column('cap_period', sa.String(length=10), nullable=True, comment='capped fee: matters.fixed_fee_minor is the cap for each month, quarter, year or the whole matter'),
    sa.Column('fixed_basis', sa.String(length=10), nullable=True, comment='matter, phase or task (fixed fees)'),
    sa.Column('min_bill_minor', sa.BigInteger(), nullable=True, comment='WIP below this is held to the next cycle'),
    sa.CheckConstraint("cap_period IS NULL OR cap_period IN ('month','quarter','year','matter')", name=op.f('ck_matter_terms_cap_period')),
    sa.CheckConstraint("fixed_basis IS NULL OR fixed_basis IN ('matter','phase','task')", name=op.f('ck_matter_terms_fixed_basis')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_matter_terms_matter_id_matters')),
    sa.PrimaryKeyConstraint('matter_id', name=op.f('pk_matter_terms'))
    )
    op.create_table('prebills',
    sa.Column('prebill_pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('billing_partner_id', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='draft', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'approved', 'finalized', 'superseded')", name=op.f('ck_prebills_status')),
    sa.ForeignKeyConstraint(['billing_partner_id'], ['timekeepers.timekeeper_id'], name=op.f('fk_prebills_billing_partner_id_timekeepers')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_prebills_matter_id_matters')),
    sa.PrimaryKeyConstraint('prebill_pk', name=op.f('pk_prebills'))
    )
    with op.batch_alter_table('prebills', schema=None) as batch_op:
        batch_op.create_index('ix_prebills_month_partner', ['month', 'billing_partner_id'], unique=False)

    op.create_table('invoices',
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=12), server_default='invoice', nullable=False),
    sa.Column('credits_invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment='the invoice a credit note corrects'),
    sa.Column('prebill_pk', sa.Integer(), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('office_id', sa.String(length=20), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('payor_percent', sa.String(length=12), server_default='100', nullable=False),
    sa.Column('fees_minor', sa.BigInteger(), nullable=False),
    sa.Column('expenses_minor', sa.BigInteger(), nullable=False),
    sa.Column('discount_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('rounding', sa.String(length=10), nullable=False),
    sa.Column('finalized_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalized_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("kind = 'invoice' OR credits_invoice_pk IS NOT NULL", name=op.f('ck_invoices_credit_ref')),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name=op.f('ck_invoices_kind')),
    sa.CheckConstraint('due_date >= invoice_date', name=op.f('ck_invoices_due_after_date')),
    sa.CheckConstraint('total_minor = fees_minor + expenses_minor - discount_minor + tax_minor', name=op.f('ck_invoices_ties_out')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_invoices_client_id_clients')),
    sa.ForeignKeyConstraint(['credits_invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_invoices_credits_invoice_pk_invoices')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_invoices_matter_id_matters')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.office_id'], name=op.f('fk_invoices_office_id_offices')),
    sa.ForeignKeyConstraint(['prebill_pk'], ['prebills.prebill_pk'], name=op.f('fk_invoices_prebill_pk_prebills')),
    sa.ForeignKeyConstraint(['schedule_id'], ['invoice_schedules.schedule_id'], name=op.f('fk_invoices_schedule_id_invoice_schedules')),
    sa.PrimaryKeyConstraint('invoice_pk', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_matter_id'), ['matter_id'], unique=False)

    op.create_table('prebill_lines',
    sa.Column('prebill_pk', sa.Integer(), nullable=False),
    sa.Column('entry_kind', sa.String(length=8), nullable=False),
    sa.Column('entry_pk', sa.BigInteger(), nullable=False),
    sa.Column('worked_qty_milli', sa.BigInteger(), nullable=False),
    sa.Column('standard_rate_minor', sa.BigInteger(), nullable=True, comment='firm standard rate (worked value)'),
    sa.Column('worked_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('bill_qty_milli', sa.BigInteger(), nullable=False),
    sa.Column('bill_rate_minor', sa.BigInteger(), nullable=False),
    sa.Column('bill_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=10), server_default='bill', nullable=False),
    sa.Column('transfer_to', sa.String(length=30), nullable=True),
    sa.Column('reason_code', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("action <> 'transfer' OR transfer_to IS NOT NULL", name=op.f('ck_prebill_lines_transfer_to')),
    sa.CheckConstraint("action IN ('bill', 'hold', 'no_charge', 'write_off', 'transfer')", name=op.f('ck_prebill_lines_action')),
    sa.CheckConstraint("entry_kind IN ('time', 'expense')", name=op.f('ck_prebill_lines_kind')),
    sa.ForeignKeyConstraint(['prebill_pk'], ['prebills.prebill_pk'], name=op.f('fk_prebill_lines_prebill_pk_prebills')),
    sa.ForeignKeyConstraint(['transfer_to'], ['matters.matter_id'], name=op.f('fk_prebill_lines_transfer_to_matters')),
    sa.PrimaryKeyConstraint('prebill_pk', 'entry_kind', 'entry_pk', name=op.f('pk_prebill_lines'))
    )
    op.create_table('invoice_lines',
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('line_type', sa.String(length=2), nullable=False, comment='LEDES: F, E, IF, IE'),
    sa.Column('entry_kind', sa.String(length=8), nullable=True),
    sa.Column('entry_pk', sa.BigInteger(), nullable=True),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('timekeeper_id', sa.String(length=20), nullable=True),
    sa.Column('timekeeper_name', sa.String(length=200), nullable=True),
    sa.Column('classification', sa.String(length=10), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('task_code', sa.String(length=10), nullable=True),
    sa.Column('activity_code', sa.String(length=10), nullable=True),
    sa.Column('expense_code', sa.String(length=10), nullable=True),
    sa.Column('quantity_milli', sa.BigInteger(), nullable=False),
    sa.Column('unit_minor', sa.BigInteger(), nullable=False, comment='rate or unit cost'),
    sa.Column('standard_amount_minor', sa.BigInteger(), nullable=False, comment='worked value at standard rates'),
    sa.Column('adjustment_minor', sa.BigInteger(), server_default='0', nullable=False, comment='discount (negative) or premium on the line'),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False, comment='quantity x unit, rounded once, + adjustment'),
    sa.Column('tax_percent', sa.String(length=12), server_default='0', nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.CheckConstraint("line_type IN ('F', 'E', 'IF', 'IE')", name=op.f('ck_invoice_lines_line_type')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_invoice_lines_invoice_pk_invoices')),
    sa.PrimaryKeyConstraint('invoice_pk', 'line_no', name=op.f('pk_invoice_lines'))
    )
    _refuse_changes()


def downgrade() -> None:
    _allow_changes()
    op.drop_table('invoice_lines')
    op.drop_table('prebill_lines')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_matter_id'))
        batch_op.drop_index(batch_op.f('ix_invoices_client_id'))

    op.drop_table('invoices')
    with op.batch_alter_table('prebills', schema=None) as batch_op:
        batch_op.drop_index('ix_prebills_month_partner')

    op.drop_table('prebills')
    op.drop_table('matter_terms')
    op.drop_table('matter_payors')
    with op.batch_alter_table('invoice_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_schedules_matter_id'))

    op.drop_table('invoice_schedules')
    with op.batch_alter_table('fixed_fees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fixed_fees_matter_id'))

    op.drop_table('fixed_fees')
    op.drop_table('tax_rates')
    op.drop_table('invoice_sequences')
