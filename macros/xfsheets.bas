Attribute VB_Name = "xfsheets"
' xfsheets buttons: each Sub is one line that hands the workbook to Python.
' The Python side is xfsheets/excel.py, named explicitly: a workbook's (Chinese) file
' name never becomes a Python module name. Needs the xlwings module in this project, narrowed
' at build time to read every setting (the interpreter too) only from this PC's
' %USERPROFILE%\.xlwings\xlwings.conf: nothing in the workbook or its folder is a setting.
' ASCII only: VBA stores module text in the project's code page.

' button: jian cha tai zhang
Sub CheckLedger()
    RunPython "import xfsheets.excel as x; x.check_ledger()"
End Sub

' button: ji suan shi xian
Sub ComputeDeadlines()
    RunPython "import xfsheets.excel as x; x.compute_deadlines()"
End Sub

' button: sheng cheng jiao ban dan
Sub MakeSlips()
    RunPython "import xfsheets.excel as x; x.make_slips()"
End Sub

' button: sheng cheng hui zong biao
Sub MakeReport()
    RunPython "import xfsheets.excel as x; x.make_report()"
End Sub

' button: fa song bao biao
Sub SendReport()
    RunPython "import xfsheets.excel as x; x.send_report()"
End Sub
