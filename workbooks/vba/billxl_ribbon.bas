Attribute VB_Name = "billxl_ribbon"
'billxl: the Billing ribbon's callbacks (customUI/customUI14.xml of this file).
'
'The callbacks' IRibbonControl type comes from the Microsoft Office Object Library, which the
'project references.
Option Explicit

'Every button: its id is the command to run.
Public Sub BillxlRibbonButton(control As IRibbonControl)
    BillxlRun control.ID
End Sub

'The billing workbook's own Billing tab stands aside while the billxl add-in is open, which
'shows the same tab for every workbook.
Public Sub BillxlTabVisible(control As IRibbonControl, ByRef visible)
    visible = Not BillxlAddinOpen()
End Sub

Private Function BillxlAddinOpen() As Boolean
    Dim addin As Workbook
    On Error Resume Next
    Set addin = Workbooks("billxl.xlam")
    On Error GoTo 0
    If addin Is Nothing Then
        BillxlAddinOpen = False
    Else
        BillxlAddinOpen = Not (addin Is ThisWorkbook)
    End If
End Function
