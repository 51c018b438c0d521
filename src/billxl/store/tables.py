"""The ledger's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` build them.

Conventions: money is ``BigInteger`` minor units beside a ``currency``; hours and quantities are
``BigInteger`` thousandths (``*_milli``); business keys are the firm's own text ids (``C0001``,
``M0001-0001``); statuses are text with a CHECK constraint (portable between SQLite and
PostgreSQL, and readable in either).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ENTRY_STATUSES = ("WIP", "held", "billed", "written_off")
RATE_KINDS = ("standard", "override", "approved")
FEE_ARRANGEMENTS = ("hourly", "fixed", "capped", "retainer", "milestone", "contingency")
ROUNDING_RULES = ("half_up", "half_even", "half_down", "down", "up")
#: When a matter is pre-billed (billxl.billing.cycles); a matter without one takes its client's,
#: a client without one is billed monthly.
BILLING_CYCLES = ("monthly", "quarterly", "milestones", "completion", "on_request")
#: How a scheduled invoice's date that falls on a weekend moves (billxl.billing.schedule_builder).
WEEKEND_RULES = ("modified_following", "following", "preceding", "none")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


firm = sa.Table(
    "firm", metadata,
    sa.Column("firm_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("law_firm_id", sa.String(40), nullable=False, comment="tax id used as LEDES LAW_FIRM_ID"),
    sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
    sa.Column("rounding", sa.String(10), nullable=False, server_default="half_up"),
    sa.Column("invoice_numbering", sa.String(10), nullable=False, server_default="firm",
              comment="'firm' or 'office': one gapless sequence per firm or per office"),
    sa.Column("guidelines_dir", sa.String(500), comment="folder of the clients' billing-guideline files"),
    sa.Column("templates_dir", sa.String(500),
              comment="folder of the firm's document templates, over billxl's own file by file"),
    sa.Column("notebooks_dir", sa.String(500),
              comment="folder of the firm's month-end notebooks, over billxl's own file by file"),
    sa.Column("weekend_rule", sa.String(20), nullable=False, server_default="modified_following",
              comment="a scheduled invoice dated on a weekend moves to the next working day "
                      "(or the one before), or stays"),
    sa.Column("holidays", sa.String(20),
              comment="the public holidays due dates move off: NULL the country's and region's, "
                      "'none', or a calendar such as GB-ENG"),
    sa.Column("closure_dates", sa.JSON, comment="days the firm is closed besides, as ISO dates"),
    sa.Column("address_1", sa.String(200)),
    sa.Column("address_2", sa.String(200)),
    sa.Column("city", sa.String(100)),
    sa.Column("region", sa.String(100)),
    sa.Column("postcode", sa.String(20)),
    sa.Column("country", sa.String(2)),
    _ts("created_at", nullable=False),
    sa.CheckConstraint(_in("rounding", ROUNDING_RULES), name="rounding"),
    sa.CheckConstraint("invoice_numbering IN ('firm', 'office')", name="numbering"),
    sa.CheckConstraint(_in("weekend_rule", WEEKEND_RULES), name="weekend_rule"),
)


def _cycle_columns() -> list:
    """A client's or a matter's billing cycle and the day of the month it falls."""
    return [sa.Column("billing_cycle", sa.String(12),
                      comment="monthly, quarterly, milestones, completion or on_request"),
            sa.Column("billing_day", sa.Integer,
                      comment="the day of the month the cycle falls (NULL: the last day)"),
            sa.CheckConstraint(f"billing_cycle IS NULL OR {_in('billing_cycle', BILLING_CYCLES)}",
                               name="billing_cycle"),
            sa.CheckConstraint("billing_day IS NULL OR billing_day BETWEEN 1 AND 31",
                               name="billing_day")]

offices = sa.Table(
    "offices", metadata,
    sa.Column("office_id", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("city", sa.String(100)),
    sa.Column("country", sa.String(2)),
    sa.Column("currency", sa.String(3), nullable=False),
)

timekeepers = sa.Table(
    "timekeepers", metadata,
    sa.Column("timekeeper_id", sa.String(20), primary_key=True),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("user_name", sa.String(100), unique=True,
              comment="name used by practice-management exports, e.g. 'Jane Smith'"),
    sa.Column("email", sa.String(200), unique=True,
              comment="e-mail, as time trackers such as Toggl export it"),
    sa.Column("classification", sa.String(10), nullable=False,
              comment="LEDES classification: PARTNR, ASSOC, OFCOUN, PARLGL, LGLAST, OTHER"),
    sa.Column("office_id", sa.ForeignKey("offices.office_id"), nullable=False),
    sa.Column("active_from", sa.Date, nullable=False),
    sa.Column("active_to", sa.Date),
    sa.CheckConstraint("active_to IS NULL OR active_to >= active_from", name="active_dates"),
)

clients = sa.Table(
    "clients", metadata,
    sa.Column("client_id", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("tax_jurisdiction", sa.String(10), comment="e.g. US-NY, GB, DE; drives VAT/GST"),
    sa.Column("payment_terms_days", sa.Integer, nullable=False, server_default="30"),
    sa.Column("ebilling_portal", sa.String(40), comment="portal profile name, NULL = paper/email"),
    sa.Column("guideline_set", sa.String(60), comment="billing-guideline file for this client"),
    sa.Column("rounding", sa.String(10), comment="overrides the firm's rounding rule"),
    sa.Column("ledes_client_id", sa.String(40), comment="the client's id for the firm in LEDES"),
    sa.Column("billing_contact", sa.String(200)),
    sa.Column("address_1", sa.String(200)),
    sa.Column("address_2", sa.String(200)),
    sa.Column("city", sa.String(100)),
    sa.Column("region", sa.String(100)),
    sa.Column("postcode", sa.String(20)),
    sa.Column("country", sa.String(2)),
    sa.Column("tax_id", sa.String(40)),
    sa.Column("office_id", sa.ForeignKey("offices.office_id")),
    sa.Column("closed_on", sa.Date, comment="the day the firm stopped acting for the client"),
    *_cycle_columns(),
    sa.CheckConstraint(f"rounding IS NULL OR {_in('rounding', ROUNDING_RULES)}", name="rounding"),
    sa.CheckConstraint("payment_terms_days >= 0", name="terms"),
)

matters = sa.Table(
    "matters", metadata,
    sa.Column("matter_id", sa.String(30), primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("client_matter_id", sa.String(60), comment="the client's own matter reference"),
    sa.Column("practice_area", sa.String(40)),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date),
    sa.Column("billing_partner_id", sa.ForeignKey("timekeepers.timekeeper_id"), nullable=False,
              index=True),
    sa.Column("responsible_secretary", sa.String(100)),
    sa.Column("office_id", sa.ForeignKey("offices.office_id")),
    sa.Column("fee_arrangement", sa.String(20), nullable=False, server_default="hourly"),
    sa.Column("fixed_fee_minor", sa.BigInteger, comment="fixed or capped amount, minor units"),
    sa.Column("utbms_required", sa.Boolean, nullable=False, server_default=sa.false()),
    *_cycle_columns(),
    sa.CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="open_dates"),
    sa.CheckConstraint(_in("fee_arrangement", FEE_ARRANGEMENTS), name="fee_arrangement"),
)

rates = sa.Table(
    "rates", metadata,
    sa.Column("rate_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(10), nullable=False,
              comment="standard (firm list), override (client/matter agreed), approved (client-approved, a cap)"),
    sa.Column("timekeeper_id", sa.ForeignKey("timekeepers.timekeeper_id")),
    sa.Column("classification", sa.String(10)),
    sa.Column("client_id", sa.ForeignKey("clients.client_id")),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id")),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("rate_minor", sa.BigInteger, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("effective_to", sa.Date),
    sa.CheckConstraint(_in("kind", RATE_KINDS), name="kind"),
    sa.CheckConstraint("timekeeper_id IS NOT NULL OR classification IS NOT NULL", name="who"),
    sa.CheckConstraint("kind = 'standard' OR client_id IS NOT NULL OR matter_id IS NOT NULL",
                       name="scope"),
    sa.CheckConstraint("rate_minor >= 0", name="non_negative"),
    sa.CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates"),
    sa.Index("ix_rates_lookup", "timekeeper_id", "classification", "effective_from"),
)

import_batches = sa.Table(
    "import_batches", metadata,
    sa.Column("batch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("file_name", sa.String(260), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("profile", sa.String(60), nullable=False),
    sa.Column("source", sa.String(60), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    _ts("imported_at", nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_new", sa.Integer, nullable=False),
    sa.Column("rows_changed", sa.Integer, nullable=False),
    sa.Column("rows_unchanged", sa.Integer, nullable=False),
)

time_entries = sa.Table(
    "time_entries", metadata,
    sa.Column("entry_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("source", sa.String(60), nullable=False, comment="system the entry came from"),
    sa.Column("source_key", sa.String(100), nullable=False, comment="its id in that system"),
    sa.Column("entry_id", sa.String(100), nullable=False, comment="id shown to users"),
    sa.Column("timekeeper_id", sa.ForeignKey("timekeepers.timekeeper_id"), nullable=False),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False),
    sa.Column("work_date", sa.Date, nullable=False),
    sa.Column("hours_milli", sa.BigInteger, nullable=False),
    sa.Column("rate_minor", sa.BigInteger, comment="rate as recorded by the source"),
    sa.Column("amount_minor", sa.BigInteger, comment="amount as recorded by the source"),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("narrative", sa.Text, nullable=False, server_default=""),
    sa.Column("task_code", sa.String(10)),
    sa.Column("activity_code", sa.String(10)),
    sa.Column("billable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("status", sa.String(12), nullable=False, server_default="WIP"),
    sa.Column("entered_on", sa.Date, comment="when the timekeeper recorded it, if known"),
    sa.Column("row_hash", sa.String(32), nullable=False, comment="content hash, detects changes"),
    sa.Column("batch_id", sa.ForeignKey("import_batches.batch_id")),
    sa.UniqueConstraint("source", "source_key"),
    sa.CheckConstraint(_in("status", ENTRY_STATUSES), name="status"),
    sa.Index("ix_time_entries_matter_status", "matter_id", "status"),
    sa.Index("ix_time_entries_tk_date", "timekeeper_id", "work_date"),
)

expenses = sa.Table(
    "expenses", metadata,
    sa.Column("expense_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("source", sa.String(60), nullable=False),
    sa.Column("source_key", sa.String(100), nullable=False),
    sa.Column("entry_id", sa.String(100), nullable=False),
    sa.Column("timekeeper_id", sa.ForeignKey("timekeepers.timekeeper_id")),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False),
    sa.Column("work_date", sa.Date, nullable=False),
    sa.Column("expense_code", sa.String(10), comment="UTBMS expense code, e.g. E101"),
    sa.Column("quantity_milli", sa.BigInteger, nullable=False),
    sa.Column("unit_cost_minor", sa.BigInteger, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("narrative", sa.Text, nullable=False, server_default=""),
    sa.Column("receipt_ref", sa.String(100)),
    sa.Column("billable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("status", sa.String(12), nullable=False, server_default="WIP"),
    sa.Column("row_hash", sa.String(32), nullable=False),
    sa.Column("batch_id", sa.ForeignKey("import_batches.batch_id")),
    sa.UniqueConstraint("source", "source_key"),
    sa.CheckConstraint(_in("status", ENTRY_STATUSES), name="status"),
    sa.Index("ix_expenses_matter_status", "matter_id", "status"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    _ts("at", nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(20), nullable=False, comment="insert, update, delete, import"),
    sa.Column("table_name", sa.String(40), nullable=False),
    sa.Column("row_key", sa.String(200), nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Index("ix_audit_log_table_key", "table_name", "row_key"),
)

FINDING_STATUSES = ("open", "queried", "resolved", "waived")

findings = sa.Table(
    "findings", metadata,
    sa.Column("finding_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("entry_kind", sa.String(8), nullable=False, comment="time or expense"),
    sa.Column("entry_pk", sa.BigInteger, nullable=False,
              comment="time_entries.entry_pk or expenses.expense_pk"),
    sa.Column("entry_id", sa.String(100), nullable=False),
    sa.Column("field", sa.String(40), nullable=False, server_default=""),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("suggestion", sa.Text),
    sa.Column("status", sa.String(10), nullable=False, server_default="open"),
    sa.Column("entry_hash", sa.String(32), nullable=False,
              comment="the entry's row_hash when last seen; a waiver holds while it is unchanged"),
    sa.Column("status_reason", sa.Text),
    sa.Column("status_by", sa.String(100)),
    _ts("status_at"),
    _ts("first_seen_at", nullable=False),
    _ts("last_seen_at", nullable=False),
    sa.UniqueConstraint("rule", "entry_kind", "entry_pk", "field"),
    sa.CheckConstraint(_in("status", FINDING_STATUSES), name="status"),
    sa.CheckConstraint("entry_kind IN ('time', 'expense')", name="kind"),
    sa.CheckConstraint("status <> 'waived' OR (status_reason IS NOT NULL AND status_by IS NOT NULL)",
                       name="waiver_reason"),
    sa.Index("ix_findings_status_rule", "status", "rule"),
)

# --------------------------------------------------------------------------- billing terms
PREBILL_ACTIONS = ("bill", "hold", "no_charge", "write_off", "transfer")
PREBILL_STATUSES = ("draft", "approved", "finalized", "superseded")

matter_terms = sa.Table(
    "matter_terms", metadata,
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), primary_key=True),
    sa.Column("discount_percent", sa.String(12), comment="exact decimal text; negative = premium"),
    sa.Column("discount_minor", sa.BigInteger, comment="fixed discount per invoice"),
    sa.Column("cap_period", sa.String(10), comment="capped fee: matters.fixed_fee_minor is the cap for each month, quarter, year or the whole matter"),
    sa.Column("fixed_basis", sa.String(10), comment="matter, phase or task (fixed fees)"),
    sa.Column("min_bill_minor", sa.BigInteger,
              comment="WIP below this is held to the next cycle"),
    sa.CheckConstraint("cap_period IS NULL OR cap_period IN ('month','quarter','year','matter')",
                       name="cap_period"),
    sa.CheckConstraint("fixed_basis IS NULL OR fixed_basis IN ('matter','phase','task')",
                       name="fixed_basis"),
)

fixed_fees = sa.Table(
    "fixed_fees", metadata,
    sa.Column("fixed_fee_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False, index=True),
    sa.Column("code", sa.String(10), comment="UTBMS phase or task code; NULL for the matter"),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.UniqueConstraint("matter_id", "code"),
)

matter_payors = sa.Table(
    "matter_payors", metadata,
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), primary_key=True),
    sa.Column("percent", sa.String(12), nullable=False, comment="exact decimal text; sums to 100"),
)

invoice_schedules = sa.Table(
    "invoice_schedules", metadata,
    sa.Column("schedule_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False, index=True),
    sa.Column("kind", sa.String(12), nullable=False, comment="installment, retainer or milestone"),
    sa.Column("due_on", sa.Date, comment="date the invoice is due to be raised"),
    sa.Column("trigger", sa.String(200), comment="milestone event, e.g. 'signing'"),
    sa.Column("triggered_on", sa.Date),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("invoice_pk", sa.BigInteger, comment="set when invoiced"),
    sa.CheckConstraint("kind IN ('installment','retainer','milestone')", name="kind"),
    sa.CheckConstraint("due_on IS NOT NULL OR trigger IS NOT NULL", name="when"),
)

tax_rates = sa.Table(
    "tax_rates", metadata,
    sa.Column("tax_rate_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("jurisdiction", sa.String(10), nullable=False),
    sa.Column("tax_type", sa.String(10), nullable=False, comment="VAT, GST, SALES"),
    sa.Column("applies_to", sa.String(10), nullable=False, comment="fees, expenses or both"),
    sa.Column("percent", sa.String(12), nullable=False, comment="exact decimal text, e.g. 20"),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("effective_to", sa.Date),
    sa.CheckConstraint("applies_to IN ('fees','expenses','both')", name="applies_to"),
)

# --------------------------------------------------------------------------- pre-bills
prebills = sa.Table(
    "prebills", metadata,
    sa.Column("prebill_pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False),
    sa.Column("billing_partner_id", sa.ForeignKey("timekeepers.timekeeper_id"), nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="draft"),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("approved_by", sa.String(100)),
    _ts("approved_at"),
    sa.Column("note", sa.Text),
    sa.CheckConstraint(_in("status", PREBILL_STATUSES), name="status"),
    sa.Index("ix_prebills_month_partner", "month", "billing_partner_id"),
)

prebill_lines = sa.Table(
    "prebill_lines", metadata,
    sa.Column("prebill_pk", sa.ForeignKey("prebills.prebill_pk"), primary_key=True),
    sa.Column("entry_kind", sa.String(8), primary_key=True),
    sa.Column("entry_pk", sa.BigInteger, primary_key=True),
    sa.Column("worked_qty_milli", sa.BigInteger, nullable=False),
    sa.Column("standard_rate_minor", sa.BigInteger, comment="firm standard rate (worked value)"),
    sa.Column("worked_amount_minor", sa.BigInteger, nullable=False),
    sa.Column("bill_qty_milli", sa.BigInteger, nullable=False),
    sa.Column("bill_rate_minor", sa.BigInteger, nullable=False),
    sa.Column("bill_amount_minor", sa.BigInteger, nullable=False),
    sa.Column("action", sa.String(10), nullable=False, server_default="bill"),
    sa.Column("transfer_to", sa.ForeignKey("matters.matter_id")),
    sa.Column("reason_code", sa.String(20)),
    sa.Column("note", sa.Text),
    sa.CheckConstraint(_in("action", PREBILL_ACTIONS), name="action"),
    sa.CheckConstraint("action <> 'transfer' OR transfer_to IS NOT NULL", name="transfer_to"),
    sa.CheckConstraint("entry_kind IN ('time', 'expense')", name="kind"),
)

# --------------------------------------------------------------------------- invoices
invoice_sequences = sa.Table(
    "invoice_sequences", metadata,
    sa.Column("scope", sa.String(20), primary_key=True, comment="'firm' or an office id"),
    sa.Column("prefix", sa.String(10), nullable=False, server_default=""),
    sa.Column("next_number", sa.BigInteger, nullable=False, server_default="1"),
)

invoices = sa.Table(
    "invoices", metadata,
    sa.Column("invoice_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("number", sa.String(30), nullable=False, unique=True),
    sa.Column("kind", sa.String(12), nullable=False, server_default="invoice"),
    sa.Column("credits_invoice_pk", sa.ForeignKey("invoices.invoice_pk"),
              comment="the invoice a credit note corrects"),
    sa.Column("prebill_pk", sa.ForeignKey("prebills.prebill_pk")),
    sa.Column("schedule_id", sa.ForeignKey("invoice_schedules.schedule_id")),
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), nullable=False, index=True),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False, index=True),
    sa.Column("office_id", sa.ForeignKey("offices.office_id")),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("invoice_date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("payor_percent", sa.String(12), nullable=False, server_default="100"),
    sa.Column("fees_minor", sa.BigInteger, nullable=False),
    sa.Column("expenses_minor", sa.BigInteger, nullable=False),
    sa.Column("discount_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("tax_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("rounding", sa.String(10), nullable=False),
    _ts("finalized_at", nullable=False),
    sa.Column("finalized_by", sa.String(100), nullable=False),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind"),
    sa.CheckConstraint("kind = 'invoice' OR credits_invoice_pk IS NOT NULL", name="credit_ref"),
    sa.CheckConstraint(
        "total_minor = fees_minor + expenses_minor - discount_minor + tax_minor", name="ties_out"),
    sa.CheckConstraint("due_date >= invoice_date", name="due_after_date"),
)

invoice_lines = sa.Table(
    "invoice_lines", metadata,
    sa.Column("invoice_pk", sa.ForeignKey("invoices.invoice_pk"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("line_type", sa.String(2), nullable=False, comment="LEDES: F, E, IF, IE"),
    sa.Column("entry_kind", sa.String(8)),
    sa.Column("entry_pk", sa.BigInteger),
    sa.Column("work_date", sa.Date, nullable=False),
    sa.Column("timekeeper_id", sa.String(20)),
    sa.Column("timekeeper_name", sa.String(200)),
    sa.Column("classification", sa.String(10)),
    sa.Column("narrative", sa.Text, nullable=False),
    sa.Column("task_code", sa.String(10)),
    sa.Column("activity_code", sa.String(10)),
    sa.Column("expense_code", sa.String(10)),
    sa.Column("quantity_milli", sa.BigInteger, nullable=False),
    sa.Column("unit_minor", sa.BigInteger, nullable=False, comment="rate or unit cost"),
    sa.Column("standard_amount_minor", sa.BigInteger, nullable=False,
              comment="worked value at standard rates"),
    sa.Column("adjustment_minor", sa.BigInteger, nullable=False, server_default="0",
              comment="discount (negative) or premium on the line"),
    sa.Column("amount_minor", sa.BigInteger, nullable=False,
              comment="quantity x unit, rounded once, + adjustment"),
    sa.Column("tax_percent", sa.String(12), nullable=False, server_default="0"),
    sa.Column("tax_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("line_type IN ('F', 'E', 'IF', 'IE')", name="line_type"),
)


# =========================================================================== cash (issue 6)
# Receipts, what they paid, write-offs, refunds, trust money and the collections worklist.
# The journals (allocations, write_offs, refunds, trust_entries) are append-only: a reversal
# is a new row of the opposite sign, so every balance can be recomputed from them as of a date.
ALLOCATION_POLICIES = ("oldest", "pro_rata")
RECEIPT_STATUSES = ("posted", "unmatched", "reversed")
TRUST_KINDS = ("deposit", "application", "refund")

cash_terms = sa.Table(
    "cash_terms", metadata,
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), primary_key=True),
    sa.Column("allocation_policy", sa.String(10), nullable=False, server_default="oldest",
              comment="a receipt naming no invoice pays the oldest first, or all pro rata"),
    sa.Column("expenses_first", sa.Boolean, nullable=False, server_default=sa.true(),
              comment="pay the expenses of every open invoice before any fees"),
    sa.Column("short_pay_tolerance_minor", sa.BigInteger, nullable=False, server_default="0",
              comment="a payment short by up to this much settles in full (the rest written off)"),
    sa.CheckConstraint(_in("allocation_policy", ALLOCATION_POLICIES), name="policy"),
    sa.CheckConstraint("short_pay_tolerance_minor >= 0", name="tolerance"),
)

receipts = sa.Table(
    "receipts", metadata,
    sa.Column("receipt_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("source", sa.String(60), nullable=False, comment="the file layout's source name"),
    sa.Column("source_key", sa.String(100), nullable=False,
              comment="natural key within the source: posting twice is refused by the store"),
    sa.Column("receipt_id", sa.String(100), nullable=False, comment="id shown to users"),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), index=True,
              comment="NULL while the payer is not identified"),
    sa.Column("payer", sa.String(200), nullable=False, server_default=""),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("method", sa.String(20), nullable=False, server_default=""),
    sa.Column("reference", sa.String(200), nullable=False, server_default=""),
    sa.Column("remittance", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False, server_default="posted"),
    sa.Column("matched_by", sa.String(10), comment="named, exact, oldest, pro_rata, account, manual"),
    sa.Column("unmatched_reason", sa.String(200)),
    sa.Column("unapplied_minor", sa.BigInteger, nullable=False,
              comment="cash neither applied to invoices nor refunded (a credit on account)"),
    sa.Column("row_hash", sa.String(32), nullable=False, comment="content hash, detects changes"),
    sa.Column("batch_id", sa.ForeignKey("import_batches.batch_id"), index=True),
    _ts("posted_at", nullable=False),
    sa.Column("posted_by", sa.String(100), nullable=False),
    sa.Column("reversed_on", sa.Date),
    sa.Column("reversal_reason", sa.String(200)),
    sa.UniqueConstraint("source", "source_key"),
    sa.CheckConstraint("amount_minor > 0", name="positive"),
    sa.CheckConstraint(_in("status", RECEIPT_STATUSES), name="status"),
    sa.CheckConstraint("unapplied_minor >= 0 AND unapplied_minor <= amount_minor", name="unapplied"),
    sa.CheckConstraint("status <> 'posted' OR client_id IS NOT NULL", name="identified"),
    sa.CheckConstraint("status <> 'reversed' OR (unapplied_minor = 0 AND reversed_on IS NOT NULL "
                       "AND reversal_reason IS NOT NULL)", name="reversal"),
)

trust_entries = sa.Table(
    "trust_entries", metadata,
    sa.Column("trust_entry_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), nullable=False),
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("entry_date", sa.Date, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False, comment="+ deposit, - application or refund"),
    sa.Column("reference", sa.String(100), nullable=False, server_default=""),
    sa.Column("authorisation", sa.String(100), comment="the client's authority to apply the money"),
    sa.Column("invoice_pk", sa.ForeignKey("invoices.invoice_pk"), comment="the invoice paid"),
    sa.Column("reason", sa.Text),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.CheckConstraint(_in("kind", TRUST_KINDS), name="kind"),
    sa.CheckConstraint("(kind = 'deposit' AND amount_minor > 0) OR "
                       "(kind <> 'deposit' AND amount_minor < 0)", name="sign"),
    sa.CheckConstraint("kind <> 'application' OR (invoice_pk IS NOT NULL AND "
                       "authorisation IS NOT NULL AND authorisation <> '')", name="authorised"),
    sa.Index("ix_trust_entries_matter_currency", "matter_id", "currency"),
)

allocations = sa.Table(
    "allocations", metadata,
    sa.Column("allocation_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              primary_key=True, autoincrement=True),
    sa.Column("receipt_pk", sa.ForeignKey("receipts.receipt_pk"), index=True),
    sa.Column("trust_entry_pk", sa.ForeignKey("trust_entries.trust_entry_pk")),
    sa.Column("invoice_pk", sa.ForeignKey("invoices.invoice_pk"), nullable=False, index=True),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False, comment="apply, or reverse (returned, NSF)"),
    sa.Column("rule", sa.String(10), nullable=False,
              comment="named, exact, oldest, pro_rata, manual, trust, reversal"),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("expenses_minor", sa.BigInteger, nullable=False, server_default="0",
              comment="of the amount, what went to the invoice's expenses (and their tax)"),
    sa.Column("batch_id", sa.ForeignKey("import_batches.batch_id")),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.CheckConstraint("(receipt_pk IS NULL AND trust_entry_pk IS NOT NULL) OR "
                       "(receipt_pk IS NOT NULL AND trust_entry_pk IS NULL)", name="one_source"),
    sa.CheckConstraint("(kind = 'apply' AND amount_minor > 0) OR "
                       "(kind = 'reverse' AND amount_minor < 0)", name="sign"),
    sa.CheckConstraint("(amount_minor > 0 AND expenses_minor >= 0 AND expenses_minor <= amount_minor)"
                       " OR (amount_minor < 0 AND expenses_minor <= 0 AND "
                       "expenses_minor >= amount_minor)", name="expenses_within"),
)

write_offs = sa.Table(
    "write_offs", metadata,
    sa.Column("write_off_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              primary_key=True, autoincrement=True),
    sa.Column("invoice_pk", sa.ForeignKey("invoices.invoice_pk"), nullable=False, index=True),
    sa.Column("receipt_pk", sa.ForeignKey("receipts.receipt_pk"),
              comment="the short payment that caused it, if any"),
    sa.Column("written_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False, comment="write_off, or reverse"),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.CheckConstraint("(kind = 'write_off' AND amount_minor > 0) OR "
                       "(kind = 'reverse' AND amount_minor < 0)", name="sign"),
    sa.CheckConstraint("reason <> ''", name="reason"),
)

refunds = sa.Table(
    "refunds", metadata,
    sa.Column("refund_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("receipt_pk", sa.ForeignKey("receipts.receipt_pk"), nullable=False, index=True,
              comment="the receipt whose unapplied cash is paid back"),
    sa.Column("client_id", sa.ForeignKey("clients.client_id")),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("refunded_on", sa.Date, nullable=False),
    sa.Column("reference", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.CheckConstraint("amount_minor > 0", name="positive"),
)

retainers = sa.Table(
    "retainers", metadata,
    sa.Column("matter_id", sa.ForeignKey("matters.matter_id"), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("minimum_minor", sa.BigInteger, nullable=False,
              comment="evergreen: below this trust balance the client is asked to top up"),
    sa.Column("target_minor", sa.BigInteger, nullable=False, comment="top up to this balance"),
    _ts("set_at", nullable=False),
    sa.Column("set_by", sa.String(100), nullable=False),
    sa.CheckConstraint("minimum_minor >= 0 AND target_minor >= minimum_minor", name="levels"),
)

collection_notes = sa.Table(
    "collection_notes", metadata,
    sa.Column("note_pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("client_id", sa.ForeignKey("clients.client_id"), nullable=False, index=True),
    sa.Column("invoice_pk", sa.ForeignKey("invoices.invoice_pk")),
    sa.Column("contacted_on", sa.Date, nullable=False),
    sa.Column("promised_on", sa.Date, comment="the date the client promised to pay"),
    sa.Column("promised_minor", sa.BigInteger, comment="the amount promised"),
    sa.Column("note", sa.Text, nullable=False),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.CheckConstraint("promised_minor IS NULL OR promised_minor > 0", name="promise"),
)
# ======================================================================= end of cash (issue 6)


# ==================================================================== LEDES submissions (issue 5)
# Each LEDES file sent to a client's e-billing portal, and its status over time (append-only
# history in submission_events; submissions.status is the latest, for listing). A resubmission
# of an invoice to the same portal is a new version; the rejected one is marked resubmitted.
SUBMISSION_STATUSES = ("submitted", "accepted", "rejected", "appealed", "resubmitted", "paid")
LEDES_FORMATS = ("1998B", "98BI", "XML21")

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("submission_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              primary_key=True, autoincrement=True),
    sa.Column("invoice_pk", sa.ForeignKey("invoices.invoice_pk"), nullable=False, index=True),
    sa.Column("portal", sa.String(40), nullable=False, comment="portal profile name"),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1",
              comment="1, then one more for each resubmission of the invoice to the portal"),
    sa.Column("file_name", sa.String(260), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="submitted",
              comment="the latest status in submission_events"),
    _ts("submitted_at", nullable=False),
    sa.Column("submitted_by", sa.String(100), nullable=False),
    _ts("status_at", nullable=False),
    sa.UniqueConstraint("invoice_pk", "portal", "version"),
    sa.CheckConstraint(_in("status", SUBMISSION_STATUSES), name="status"),
    sa.CheckConstraint(_in("format", LEDES_FORMATS), name="format"),
    sa.CheckConstraint("version >= 1", name="version"),
)

submission_events = sa.Table(
    "submission_events", metadata,
    sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("submission_id", sa.ForeignKey("submissions.submission_id"), nullable=False,
              index=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("reason", sa.Text, comment="why the portal rejected it (reasons separated by '; ')"),
    _ts("at", nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.CheckConstraint(_in("status", SUBMISSION_STATUSES), name="status"),
    sa.CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name="reason"),
)
# ============================================================= end of LEDES submissions (issue 5)
