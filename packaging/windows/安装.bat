@echo off
chcp 936 >nul
rem xfsheets offline installer. Kept here as UTF-8/LF; build_bundle.py writes the bundle's copy in
rem GBK (code page 936) with CRLF. Needs no internet: installs from the wheels\ folder beside it.
setlocal EnableExtensions
title xfsheets 信访台账助手 - 离线安装
echo.
echo ==== xfsheets 信访台账助手：离线安装 ====
echo.

if not exist "%~dp0wheels\" goto notextracted

rem Find a 64-bit Python 3.11-3.13: the py launcher first, then python on PATH.
set "PY="
for %%V in (3.13 3.12 3.11) do if not defined PY call :try py -%%V
if not defined PY call :try python
if not defined PY call :try python3
if not defined PY goto nopython

for /f "tokens=2" %%A in ('%PY% --version 2^>^&1') do set "PYVER=%%A"
echo 找到 Python %PYVER%（%PY%）。
echo 正在从本文件夹安装 xfsheets 及其依赖，不需要联网，请稍候（约一两分钟）……
echo.

%PY% -m pip --version >nul 2>&1
if errorlevel 1 %PY% -m ensurepip --default-pip >nul 2>&1

%PY% -m pip install --no-index --find-links "%~dp0wheels" --upgrade --no-warn-script-location --disable-pip-version-check xfsheets
if errorlevel 1 goto pipfailed

%PY% -m xfsheets --help >nul 2>&1
if errorlevel 1 goto checkfailed
for /f "tokens=1,2" %%A in ('%PY% -m pip show xfsheets 2^>nul') do if "%%A"=="Version:" set "XFVER=%%B"

rem The shortcut "信访台账助手" (desktop, Start menu: opens the page, starting the service if it is not
rem running; Startup folder: the service at login, no browser). Only when this version has the launcher.
rem A .lnk made by PowerShell through WScript.Shell; its name is spelled in code points there, so no
rem code page is involved. Without PowerShell: a .cmd on the desktop that does the same.
set "SHORTCUT=none"
%PY% -c "import xfsheets.wps.launch" >nul 2>&1
if errorlevel 1 goto addin
set "PYEXE="
for /f "delims=" %%P in ('%PY% -c "import sys; print(sys.executable)"') do set "PYEXE=%%P"
if not defined PYEXE goto addin
rem PowerShell says "ok" only when the three .lnk files are there (a PowerShell that did nothing says nothing).
set "PSOK="
for /f "delims=" %%R in ('powershell -NoProfile -ExecutionPolicy Bypass -Command "$ErrorActionPreference='Stop'; $n=-join [char[]](0x4FE1,0x8BBF,0x53F0,0x8D26,0x52A9,0x624B); $w=New-Object -ComObject WScript.Shell; $made=0; foreach($d in @(@('Desktop','-m xfsheets.wps.launch',1),@('Programs','-m xfsheets.wps.launch',1),@('Startup','-m xfsheets serve --no-browser',7))){$p=Join-Path ([Environment]::GetFolderPath($d[0])) ($n+'.lnk'); $s=$w.CreateShortcut($p); $s.TargetPath=$env:PYEXE; $s.Arguments=$d[1]; $s.WorkingDirectory=$env:USERPROFILE; $s.WindowStyle=$d[2]; $s.Description=$n; $s.Save(); if(Test-Path -LiteralPath $p){$made++}}; if($made -eq 3){'ok'}" 2^>nul') do set "PSOK=%%R"
set "SHORTCUT=ok"
if "%PSOK%"=="ok" goto addin
set "SHORTCUT=cmd"
set "CMDFILE=%USERPROFILE%\Desktop\信访台账助手.cmd"
> "%CMDFILE%" echo @echo off
>> "%CMDFILE%" echo "%PYEXE%" -m xfsheets.wps.launch
if not exist "%CMDFILE%" set "SHORTCUT=failed"

:addin
rem The Excel add-in: only when this version has the command. Exit code 3: no Microsoft Excel here.
set "ADDIN=none"
%PY% -m xfsheets excel addin --help >nul 2>&1
if errorlevel 1 goto report
echo.
echo 正在安装 Excel 加载项（信访台账 选项卡）……
%PY% -m xfsheets excel addin install
if errorlevel 3 (set "ADDIN=noexcel") else if errorlevel 1 (set "ADDIN=failed") else (set "ADDIN=ok")

rem The WPS add-in: when this user has WPS (its per-user folder) and this version has the command.
set "WPSADDIN=none"
if not exist "%APPDATA%\kingsoft\wps\" goto report
%PY% -m xfsheets wps --help >nul 2>&1
if errorlevel 1 goto report
echo.
echo 正在安装 WPS 加载项（WPS 表格里的 信访台账 选项卡）……
%PY% -m xfsheets wps install
if errorlevel 1 (set "WPSADDIN=failed") else (set "WPSADDIN=ok")

:report
echo.
echo ==================================================================
echo 安装完成：xfsheets %XFVER% 已安装到 Python %PYVER%。
if "%ADDIN%"=="ok" echo Excel 加载项已安装。下一步：关闭并重新打开 Excel，打开台账，使用“信访台账”选项卡里的按钮。
if "%ADDIN%"=="noexcel" echo 本机没有安装 Microsoft Excel，所以没有安装 Excel 加载项（这不是错误）。
if "%ADDIN%"=="failed" echo 但 Excel 加载项没有装上（原因见上面的提示）。请关闭 Excel 后再双击“安装.bat”一次；仍不行请把本窗口截图发给技术人员。
if "%WPSADDIN%"=="ok" echo WPS 加载项已安装：关闭并重新打开 WPS 表格，使用“信访台账”选项卡（按钮需要“信访台账助手”在运行）。
if "%WPSADDIN%"=="failed" echo WPS 加载项没有装上（原因见上面的提示）。请关闭 WPS 后再双击“安装.bat”一次。
if "%SHORTCUT%"=="ok" echo 桌面和开始菜单里已放好“信访台账助手”：双击它就会在浏览器中打开信访台账助手（不用打开命令行）。登录 Windows 时它会自动在后台启动。
if "%SHORTCUT%"=="cmd" echo 桌面上已放好“信访台账助手.cmd”：双击它就会在浏览器中打开信访台账助手（本机不能创建快捷方式，所以用它代替）。
if "%SHORTCUT%"=="failed" echo 没能在桌面放“信访台账助手”（原因见上面的提示）。可以在命令行运行 %PY% -m xfsheets serve 打开它。
if "%ADDIN%"=="none" echo 本版本还没有 Excel 加载项。下一步：请技术人员为台账生成带按钮的文件（命令：%PY% -m xfsheets excel install 台账.xlsx），之后用 Excel 打开生成的 .xlsm 台账即可使用按钮。
echo 想先看效果：在本文件夹地址栏输入 cmd 回车，运行 %PY% -m xfsheets demo ，结果在 demo-output 文件夹。
echo ==================================================================
echo.
pause
exit /b 0

:try
%* -c "import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) and sys.maxsize > 2**32 else 1)" >nul 2>&1
if not errorlevel 1 set "PY=%*"
exit /b 0

:notextracted
echo 没有找到 wheels 文件夹：请先把压缩包“全部解压缩”（右键压缩包 → 全部解压缩），
echo 再双击解压出来的文件夹里的“安装.bat”。没有安装任何东西。
goto failed

:nopython
echo 本机没有安装 Python（或装的不是 64 位的 3.11、3.12、3.13），所以没有安装任何东西。
echo 下一步：先安装 Python（安装程序由技术人员提供，例如 python-3.12.10-amd64.exe，
echo 安装时勾选“Add python.exe to PATH”），装好后再双击“安装.bat”。详见“使用说明.txt”。
goto failed

:pipfailed
echo.
echo 安装没有完成（pip 报错，见上面的英文提示）。原有程序没有受影响。
echo 下一步：确认本压缩包已完整解压、Python 是 64 位的 3.11 至 3.13；仍不行请把本窗口截图发给技术人员。
goto failed

:checkfailed
echo.
echo 安装后试运行 xfsheets 失败（见上面的提示）。请把本窗口截图发给技术人员。
goto failed

:failed
echo.
pause
exit /b 1
