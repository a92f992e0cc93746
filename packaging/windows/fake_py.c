/* A stand-in for the Windows py launcher, for running 安装.bat / 卸载.bat under wine's cmd
   (tests/test_install.py). Logs each command line (UTF-8) to C:\fakepy.log and answers like a
   PC with only 64-bit Python 3.12 installed. FAKE_ADDIN: the `excel addin` command exists;
   FAKE_PIPFAIL: pip install fails. Its sys.executable is C:\Python312\python.exe. */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

static int has(const wchar_t *cl, const wchar_t *s) { return wcsstr(cl, s) != NULL; }
static int env(const wchar_t *name) { return GetEnvironmentVariableW(name, NULL, 0) != 0; }

int main(void) {
    wchar_t *cl = GetCommandLineW();
    FILE *f = _wfopen(L"C:\\fakepy.log", L"ab");
    if (f) {
        char buf[8192];
        int n = WideCharToMultiByte(CP_UTF8, 0, cl, -1, buf, sizeof buf, NULL, NULL);
        fwrite(buf, 1, n > 0 ? n - 1 : 0, f);
        fputs("\n", f);
        fclose(f);
    }
    if (!has(cl, L" -3.12 ")) return 1;              /* no other version installed */
    if (has(cl, L"sys.executable")) { printf("C:\\Python312\\python.exe\n"); return 0; }
    if (has(cl, L" -c ")) return 0;                  /* the version probe, the launcher's import */
    if (has(cl, L"--version") && !has(cl, L"-m ")) { printf("Python 3.12.1\n"); return 0; }
    if (has(cl, L"-m pip show")) { printf("Name: xfsheets\nVersion: 0.1.0\n"); return 0; }
    if (has(cl, L"-m pip install")) {
        if (env(L"FAKE_PIPFAIL")) { printf("ERROR: No matching distribution found for xfsheets\n"); return 1; }
        printf("Successfully installed xfsheets-0.1.0\n");
        return 0;
    }
    if (has(cl, L"-m pip uninstall")) { printf("Successfully uninstalled xfsheets-0.1.0\n"); return 0; }
    if (has(cl, L"-m pip --version")) return 0;
    if (has(cl, L"excel addin")) {
        if (!env(L"FAKE_ADDIN")) return 2;           /* click: no such command */
        if (has(cl, L"addin install")) printf("addin installed\n");
        return 0;
    }
    if (has(cl, L"-m xfsheets")) return 0;
    return 3;
}
