"""cash: receipts, allocations, write-offs, refunds, trust money, retainers, collection notes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


_NEGATIVE = "a trust balance cannot go negative"
_APPEND_ONLY = "trust entries cannot be changed or deleted; record a new entry instead"


def _guard_trust() -> None:
    """A trust balance never goes negative, and the trust journal is append-only: in the store.

    The balance of a matter's trust ledger (in a currency) is the sum of its entries; an insert
    that would take it below zero is refused. On PostgreSQL the check first takes a lock per
    matter and currency, so that two transactions drawing on the same money at once are
    checked one after the other (each sees the other's committed entry).
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION billxl_trust_never_negative() RETURNS trigger
            LANGUAGE plpgsql AS $$
            DECLARE balance bigint;
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtext('billxl.trust'),
                                              hashtext(NEW.matter_id || '/' || NEW.currency));
                SELECT COALESCE(SUM(amount_minor), 0) INTO balance FROM trust_entries
                 WHERE matter_id = NEW.matter_id AND currency = NEW.currency;
                IF balance + NEW.amount_minor < 0 THEN
                    RAISE EXCEPTION '{_NEGATIVE} (matter %, balance %, entry %)',
                        NEW.matter_id, balance, NEW.amount_minor
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$""")
        op.execute("CREATE TRIGGER trust_entries_never_negative BEFORE INSERT ON trust_entries "
                   "FOR EACH ROW EXECUTE FUNCTION billxl_trust_never_negative()")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION billxl_trust_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_APPEND_ONLY} (% on %)', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END $$""")
        op.execute("CREATE TRIGGER trust_entries_append_only BEFORE UPDATE OR DELETE ON "
                   "trust_entries FOR EACH ROW EXECUTE FUNCTION billxl_trust_append_only()")
    else:
        op.execute(f"""
            CREATE TRIGGER trust_entries_never_negative BEFORE INSERT ON trust_entries
            WHEN (SELECT COALESCE(SUM(amount_minor), 0) FROM trust_entries
                   WHERE matter_id = NEW.matter_id AND currency = NEW.currency)
                 + NEW.amount_minor < 0
            BEGIN SELECT RAISE(ABORT, '{_NEGATIVE}'); END""")
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER trust_entries_no_{event.lower()} BEFORE {event} ON "
                       f"trust_entries BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")


def _drop_trust_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trust_entries_never_negative ON trust_entries")
        op.execute("DROP TRIGGER IF EXISTS trust_entries_append_only ON trust_entries")
        op.execute("DROP FUNCTION IF EXISTS billxl_trust_never_negative()")
        op.execute("DROP FUNCTION IF EXISTS billxl_trust_append_only()")
    else:
        for name in ("never_negative", "no_update", "no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trust_entries_{name}")


def upgrade() -> None:
    op.create_table('cash_terms',
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('allocation_policy', sa.String(length=10), server_default='oldest', nullable=False, comment='a receipt naming no invoice pays the oldest first, or all pro rata'),
    sa.Column('expenses_first', sa.Boolean(), server_default=sa.true(), nullable=False, comment='pay the expenses of every open invoice before any fees'),
    sa.Column('short_pay_tolerance_minor', sa.BigInteger(), server_default='0', nullable=False, comment='a payment short by up to this much settles in full (the rest written off)'),
    sa.CheckConstraint("allocation_policy IN ('oldest', 'pro_rata')", name=op.f('ck_cash_terms_policy')),
    sa.CheckConstraint('short_pay_tolerance_minor >= 0', name=op.f('ck_cash_terms_tolerance')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_cash_terms_client_id_clients')),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_cash_terms'))
    )
    op.create_table('receipts',
    sa.Column('receipt_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False, comment="the file layout's source name"),
    sa.Column('source_key', sa.String(length=100), nullable=False, comment='natural key within the source: posting twice is refused by the store'),
    sa.Column('receipt_id', sa.String(length=100), nullable=False, comment='id shown to users'),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('client_id', sa.String(length=20), nullable=True, comment='NULL while the payer is not identified'),
    sa.Column('payer', sa.String(length=200), server_default='', nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=20), server_default='', nullable=False),
    sa.Column('reference', sa.String(length=200), server_default='', nullable=False),
    sa.Column('remittance', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.String(length=10), server_default='posted', nullable=False),
    sa.Column('matched_by', sa.String(length=10), nullable=True, comment='named, exact, oldest, pro_rata, account, manual'),
    sa.Column('unmatched_reason', sa.String(length=200), nullable=True),
    sa.Column('unapplied_minor', sa.BigInteger(), nullable=False, comment='cash neither applied to invoices nor refunded (a credit on account)'),
    sa.Column('row_hash', sa.String(length=32), nullable=False, comment='content hash, detects changes'),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_by', sa.String(length=100), nullable=False),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.Column('reversal_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("status <> 'posted' OR client_id IS NOT NULL", name=op.f('ck_receipts_identified')),
    sa.CheckConstraint("status <> 'reversed' OR (unapplied_minor = 0 AND reversed_on IS NOT NULL AND reversal_reason IS NOT NULL)", name=op.f('ck_receipts_reversal')),
    sa.CheckConstraint("status IN ('posted', 'unmatched', 'reversed')", name=op.f('ck_receipts_status')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_receipts_positive')),
    sa.CheckConstraint('unapplied_minor >= 0 AND unapplied_minor <= amount_minor', name=op.f('ck_receipts_unapplied')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.batch_id'], name=op.f('fk_receipts_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_receipts_client_id_clients')),
    sa.PrimaryKeyConstraint('receipt_pk', name=op.f('pk_receipts')),
    sa.UniqueConstraint('source', 'source_key', name=op.f('uq_receipts_source_source_key'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_client_id'), ['client_id'], unique=False)

    op.create_table('refunds',
    sa.Column('refund_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('receipt_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False, comment='the receipt whose unapplied cash is paid back'),
    sa.Column('client_id', sa.String(length=20), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refunded_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_refunds_positive')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_refunds_client_id_clients')),
    sa.ForeignKeyConstraint(['receipt_pk'], ['receipts.receipt_pk'], name=op.f('fk_refunds_receipt_pk_receipts')),
    sa.PrimaryKeyConstraint('refund_pk', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_receipt_pk'), ['receipt_pk'], unique=False)

    op.create_table('retainers',
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('minimum_minor', sa.BigInteger(), nullable=False, comment='evergreen: below this trust balance the client is asked to top up'),
    sa.Column('target_minor', sa.BigInteger(), nullable=False, comment='top up to this balance'),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint('minimum_minor >= 0 AND target_minor >= minimum_minor', name=op.f('ck_retainers_levels')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_retainers_matter_id_matters')),
    sa.PrimaryKeyConstraint('matter_id', name=op.f('pk_retainers'))
    )
    op.create_table('collection_notes',
    sa.Column('note_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('contacted_on', sa.Date(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=True, comment='the date the client promised to pay'),
    sa.Column('promised_minor', sa.BigInteger(), nullable=True, comment='the amount promised'),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint('promised_minor IS NULL OR promised_minor > 0', name=op.f('ck_collection_notes_promise')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_collection_notes_client_id_clients')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_collection_notes_invoice_pk_invoices')),
    sa.PrimaryKeyConstraint('note_pk', name=op.f('pk_collection_notes'))
    )
    with op.batch_alter_table('collection_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_notes_client_id'), ['client_id'], unique=False)

    op.create_table('trust_entries',
    sa.Column('trust_entry_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=20), nullable=False),
    sa.Column('matter_id', sa.String(length=30), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False, comment='+ deposit, - application or refund'),
    sa.Column('reference', sa.String(length=100), server_default='', nullable=False),
    sa.Column('authorisation', sa.String(length=100), nullable=True, comment="the client's authority to apply the money"),
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment='the invoice paid'),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("(kind = 'deposit' AND amount_minor > 0) OR (kind <> 'deposit' AND amount_minor < 0)", name=op.f('ck_trust_entries_sign')),
    sa.CheckConstraint("kind <> 'application' OR (invoice_pk IS NOT NULL AND authorisation IS NOT NULL AND authorisation <> '')", name=op.f('ck_trust_entries_authorised')),
    sa.CheckConstraint("kind IN ('deposit', 'application', 'refund')", name=op.f('ck_trust_entries_kind')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_trust_entries_client_id_clients')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_trust_entries_invoice_pk_invoices')),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.matter_id'], name=op.f('fk_trust_entries_matter_id_matters')),
    sa.PrimaryKeyConstraint('trust_entry_pk', name=op.f('pk_trust_entries'))
    )
    with op.batch_alter_table('trust_entries', schema=None) as batch_op:
        batch_op.create_index('ix_trust_entries_matter_currency', ['matter_id', 'currency'], unique=False)

    op.create_table('write_offs',
    sa.Column('write_off_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment='the short payment that caused it, if any'),
    sa.Column('written_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False, comment='write_off, or reverse'),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("(kind = 'write_off' AND amount_minor > 0) OR (kind = 'reverse' AND amount_minor < 0)", name=op.f('ck_write_offs_sign')),
    sa.CheckConstraint("reason <> ''", name=op.f('ck_write_offs_reason')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_write_offs_invoice_pk_invoices')),
    sa.ForeignKeyConstraint(['receipt_pk'], ['receipts.receipt_pk'], name=op.f('fk_write_offs_receipt_pk_receipts')),
    sa.PrimaryKeyConstraint('write_off_pk', name=op.f('pk_write_offs'))
    )
    with op.batch_alter_table('write_offs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_write_offs_invoice_pk'), ['invoice_pk'], unique=False)

    op.create_table('allocations',
    sa.Column('allocation_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('receipt_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('trust_entry_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('invoice_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False, comment='apply, or reverse (returned, NSF)'),
    sa.Column('rule', sa.String(length=10), nullable=False, comment='named, exact, oldest, pro_rata, manual, trust, reversal'),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('expenses_minor', sa.BigInteger(), server_default='0', nullable=False, comment="of the amount, what went to the invoice's expenses (and their tax)"),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("(kind = 'apply' AND amount_minor > 0) OR (kind = 'reverse' AND amount_minor < 0)", name=op.f('ck_allocations_sign')),
    sa.CheckConstraint('(amount_minor > 0 AND expenses_minor >= 0 AND expenses_minor <= amount_minor) OR (amount_minor < 0 AND expenses_minor <= 0 AND expenses_minor >= amount_minor)', name=op.f('ck_allocations_expenses_within')),
    sa.CheckConstraint('(receipt_pk IS NULL AND trust_entry_pk IS NOT NULL) OR (receipt_pk IS NOT NULL AND trust_entry_pk IS NULL)', name=op.f('ck_allocations_one_source')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.batch_id'], name=op.f('fk_allocations_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoices.invoice_pk'], name=op.f('fk_allocations_invoice_pk_invoices')),
    sa.ForeignKeyConstraint(['receipt_pk'], ['receipts.receipt_pk'], name=op.f('fk_allocations_receipt_pk_receipts')),
    sa.ForeignKeyConstraint(['trust_entry_pk'], ['trust_entries.trust_entry_pk'], name=op.f('fk_allocations_trust_entry_pk_trust_entries')),
    sa.PrimaryKeyConstraint('allocation_pk', name=op.f('pk_allocations'))
    )
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocations_invoice_pk'), ['invoice_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_receipt_pk'), ['receipt_pk'], unique=False)

    _guard_trust()


def downgrade() -> None:
    _drop_trust_guards()
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocations_receipt_pk'))
        batch_op.drop_index(batch_op.f('ix_allocations_invoice_pk'))

    op.drop_table('allocations')
    with op.batch_alter_table('write_offs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_write_offs_invoice_pk'))

    op.drop_table('write_offs')
    with op.batch_alter_table('trust_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_entries_matter_currency')

    op.drop_table('trust_entries')
    with op.batch_alter_table('collection_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_notes_client_id'))

    op.drop_table('collection_notes')
    op.drop_table('retainers')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_receipt_pk'))

    op.drop_table('refunds')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_client_id'))
        batch_op.drop_index(batch_op.f('ix_receipts_batch_id'))

    op.drop_table('receipts')
    op.drop_table('cash_terms')
