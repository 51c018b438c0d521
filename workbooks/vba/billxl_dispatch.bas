Attribute VB_Name = "billxl_dispatch"
'billxl: the one way from a Billing button to Python.
'
'Every button of the Billing ribbon names the same callback (billxl_ribbon.BillxlRibbonButton),
'which passes the button's id here. The id is a command id of billxl.excel.layout (import_time,
'check, reconcile, ...); Python runs that command on the active workbook through xlwings, writes
'its tables and says what it did in the Instructions sheet's status cell.
Option Explicit

Public Sub BillxlRun(ByVal commandId As String)
    RunPython "import billxl.excel.commands as commands; commands.run_from_excel('" & commandId & "')"
End Sub
