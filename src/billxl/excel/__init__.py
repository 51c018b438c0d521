"""Workbook adapters: the billing workbook, exception and pre-bill workbooks, xlwings UDFs and ribbon."""
