"""Billing: pre-bills with the partner's edits and approval, then final invoices and credit notes."""
