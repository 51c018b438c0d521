"""The figures: each defined once, as a pure function over the journals' frames.

Every surface (the command line, the statements and aging, the read-only view behind the
worksheet functions, the notebooks and packs) answers a question about money with one of these
functions, so that a figure cannot have two values. Each module is named for its figure and its
docstring gives the formula and the date that drives it:

- ``balances``: an invoice's balance (total, credits, paid, written off; fees and expenses)
- ``credit``: credit on account (cash received and not applied)
- ``trust``: trust balance per matter
- ``wip``: work in progress, selected and valued (standard and billing rates), and its age
- ``aging``: AR aging buckets, with credits, under any grouping
- ``period``: billed, collected, written down and written off in a period
- ``performance``: realization, utilisation, effective rate
- ``lockup``: WIP days, debtor days (DSO) and lock-up

The inputs are the frames of ``billxl.store.reads`` (layouts in ``billxl.schema``); amounts are
integer minor units per currency and are never summed across currencies.
"""
