Attribute VB_Name = "xfsheetsRibbon"
' The xin fang tai zhang ribbon tab of xfsheets.xlam: each Sub is one line that hands the active
' workbook to Python (xfsheets/excel.py, named explicitly: a workbook's Chinese file name
' never becomes a module name). xlwings' RunPython passes ActiveWorkbook to Python; the
' interpreter and every other setting come only from this PC's %USERPROFILE%\.xlwings\xlwings.conf
' (written by `xfsheets excel addin install`): the xlwings module is narrowed at build time
' (xfsheets/addin.py) so that no config sheet of the workbook, no file in its folder and
' nothing of its folder on sys.path can steer it. ASCII only: VBA stores module text in the
' project's code page.

Sub CheckLedger(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.check_ledger()"
End Sub

Sub ComputeDeadlines(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.compute_deadlines()"
End Sub

Sub MakeSlips(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.make_slips()"
End Sub

Sub MakeSupervisionSlips(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.make_supervision_slips()"
End Sub

Sub MakeReport(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.make_report()"
End Sub

Sub ZeroReport(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.zero_report()"
End Sub

Sub MergeLedgers(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.merge_ledgers()"
End Sub

Sub ShowSettings(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.show_settings()"
End Sub

Sub ShowHelp(control As IRibbonControl)
    RunPython "import xfsheets.excel as x; x.show_help()"
End Sub
