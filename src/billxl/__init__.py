"""billxl: a billing toolkit for law firms."""

__version__ = "0.1.0"
