@echo off
chcp 936 >nul
rem xfsheets uninstaller. Kept here as UTF-8/LF; build_bundle.py writes the bundle's copy in GBK with CRLF.
setlocal EnableExtensions
title xfsheets 信访台账助手 - 卸载
echo.
echo ==== xfsheets 信访台账助手：卸载 ====
echo.
set "FOUND="
for %%V in (3.13 3.12 3.11) do call :remove py -%%V
if not defined FOUND call :remove python
if defined FOUND call :shortcuts
echo.
if defined FOUND (
  echo 卸载完成。台账文件和程序生成的结果文件都没有删除；pandas 等依赖库保留，不影响其他程序。
) else (
  echo 没有找到已安装的 xfsheets，没有做任何改动。
)
echo.
pause
exit /b 0

:remove
%* -m pip show xfsheets >nul 2>&1
if errorlevel 1 exit /b 0
set "FOUND=1"
%* -m xfsheets excel addin uninstall --help >nul 2>&1
if not errorlevel 1 %* -m xfsheets excel addin uninstall
%* -m xfsheets wps uninstall --help >nul 2>&1
if not errorlevel 1 %* -m xfsheets wps uninstall
echo 正在从 %* 卸载 xfsheets ……
%* -m pip uninstall -y --disable-pip-version-check xfsheets
exit /b 0

:shortcuts
rem The shortcuts 安装.bat placed (desktop, Start menu, Startup; or the desktop .cmd), by the same code points.
powershell -NoProfile -ExecutionPolicy Bypass -Command "$n=-join [char[]](0x4FE1,0x8BBF,0x53F0,0x8D26,0x52A9,0x624B); foreach($d in 'Desktop','Programs','Startup'){Remove-Item -LiteralPath (Join-Path ([Environment]::GetFolderPath($d)) ($n+'.lnk')) -ErrorAction SilentlyContinue}" >nul 2>&1
if exist "%USERPROFILE%\Desktop\信访台账助手.cmd" del "%USERPROFILE%\Desktop\信访台账助手.cmd"
echo 已删除桌面、开始菜单和启动文件夹里的“信访台账助手”。
exit /b 0
