"""What a user installs is what the package imports (issue 13).

- Every third-party module imported anywhere in ``xfsheets/`` is a declared run-time dependency
  (read from pyproject.toml, extras excluded): a module only in the ``test`` or ``bench`` extra
  would give users a traceback that ``make test`` never sees.
- In an environment made by a plain ``pip install xfsheets-*.whl`` (no extras), every module of the
  package imports and every command's ``--help`` runs. ``.ci/run`` builds that environment once and
  passes its interpreter in ``XFSHEETS_PLAIN_PYTHON``; without it the test builds its own (about
  half a minute: a venv and a wheel install from the package index or the pip cache).
- The offline Windows bundle, when one has been built (``make windows-bundle``), resolves for every
  supported Python (see packaging/windows/build_bundle.py).
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xfsheets"


def declared_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}


def imported_top_level_modules() -> dict[str, set[str]]:
    """{top-level module name: {files importing it}} for absolute imports in the package."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_imported_module_is_a_declared_dependency():
    imports = imported_top_level_modules()
    third_party = {m: files for m, files in imports.items()
                   if m not in sys.stdlib_module_names and m not in ("xfsheets", "__future__")}
    assert {"pandas", "pyarrow", "xlwings", "chinese_calendar"} <= set(third_party)  # the scan sees them
    dists = packages_distributions()
    declared = declared_dependencies()
    problems = []
    for module, files in sorted(third_party.items()):
        owners = {canonicalize_name(d) for d in dists.get(module, [])}
        if not owners:
            if module == "tomli" and sys.version_info >= (3, 11):
                continue  # only imported under `if sys.version_info < (3, 11)`, declared with that marker
            problems.append(f"{module} (imported in {', '.join(sorted(files))}) is not installed here")
        elif not owners & declared:
            problems.append(f"{module} (imported in {', '.join(sorted(files))}) comes from {sorted(owners)}, "
                            f"which is not in [project] dependencies")
    assert not problems, "\n".join(problems)


def test_data_packages_have_an_upper_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = {canonicalize_name(Requirement(r).name): Requirement(r) for r in project["dependencies"]}
    spec = reqs["chinese-calendar"].specifier
    assert any(s.operator in ("<", "<=", "==", "~=") for s in spec), spec
    assert not spec.contains("99.0")


# --- a plain install --------------------------------------------------------------------

@pytest.fixture(scope="session")
def plain_python(tmp_path_factory) -> Path:
    """The interpreter of a venv where only ``pip install xfsheets-*.whl`` (no extras) was run."""
    given = os.environ.get("XFSHEETS_PLAIN_PYTHON")
    if given:
        return Path(given)
    tmp = tmp_path_factory.mktemp("plain")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next((tmp / "dist").glob("xfsheets-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
    python = tmp / "venv" / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    if done.returncode != 0:
        if "No matching distribution" in done.stderr or "Could not fetch" in done.stderr:
            pytest.skip(f"the package index cannot be reached to build a plain install: {done.stderr[-300:]}")
        raise AssertionError(done.stderr)
    return python


PLAIN_CHECK = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    import xfsheets
    result = {"file": xfsheets.__file__, "modules": [], "failed": {}}
    for info in pkgutil.walk_packages(xfsheets.__path__, "xfsheets."):
        try:
            importlib.import_module(info.name)
            result["modules"].append(info.name)
        except BaseException as exc:
            result["failed"][info.name] = repr(exc)
    # what is installed besides the package and its dependencies would hide a missing declaration
    result["test_tools"] = [m for m in ("pytest", "hypothesis", "polars", "fastexcel", "aiosmtpd")
                            if importlib.util.find_spec(m) is not None]
    print(json.dumps(result))
""")


def test_plain_install_imports_every_module(plain_python, tmp_path):
    # run outside the source tree so that `import xfsheets` finds the installed copy
    done = subprocess.run([str(plain_python), "-c", PLAIN_CHECK], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert not Path(result["file"]).is_relative_to(ROOT / "xfsheets"), result["file"]
    assert result["test_tools"] == [], "the plain environment has extras installed"
    assert not result["failed"], result["failed"]
    # every module of the source tree, subpackages (xfsheets.history, ...) included: a subpackage missing
    # from pyproject's package list would install without it
    expected = {"xfsheets." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
                for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts and p != PACKAGE / "__init__.py"}
    assert expected <= set(result["modules"]), expected - set(result["modules"])


def commands(python: Path, cwd: Path) -> list[list[str]]:
    """Every command path of the installed CLI, sub-commands included (from click itself)."""
    script = textwrap.dedent("""
        import json, click
        from xfsheets.cli import main
        def walk(cmd, path):
            yield path
            if isinstance(cmd, click.Group):
                for name, sub in sorted(cmd.commands.items()):
                    yield from walk(sub, path + [name])
        print(json.dumps(list(walk(main, []))))
    """)
    done = subprocess.run([str(python), "-c", script], cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_plain_install_every_help_runs(plain_python, tmp_path):
    script = plain_python.parent / ("xfsheets.exe" if os.name == "nt" else "xfsheets")
    paths = commands(plain_python, tmp_path)
    assert ["excel", "install"] in paths and ["deadlines"] in paths
    for path in paths:
        done = subprocess.run([str(script), *path, "--help"], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0 and "Traceback" not in done.stderr + done.stdout, (path, done.stderr)
        assert done.stdout.strip() and "xfsheets" in done.stdout.splitlines()[0], path


# --- the offline Windows bundle ---------------------------------------------------------

def _bundle_module():
    spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "packaging" / "windows" / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundle_scripts_are_crlf_and_readable_by_a_chinese_console():
    bundle = _bundle_module()
    for name in ("安装.bat", "卸载.bat"):
        data = bundle.bat_bytes(ROOT / "packaging" / "windows" / name)
        assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n"), name
        text = data.decode(bundle.BAT_ENCODING)  # must decode as the code page the script switches to
        first = text.splitlines()[0]
        assert first.isascii() and first.lower().startswith("@echo off"), name
        assert "chcp 936" in text.splitlines()[1], name  # before any non-ASCII line
        assert not data.startswith(b"\xef\xbb\xbf"), name  # a BOM would break the first command
    install = bundle.bat_bytes(ROOT / "packaging" / "windows" / "安装.bat").decode(bundle.BAT_ENCODING)
    assert "--no-index" in install and "--find-links" in install
    assert "excel addin --help" in install  # the add-in step only when the command exists
    # the py launcher is asked for each supported version, newest first, and any Python found is checked
    assert f"for %%V in ({' '.join(reversed(bundle.PYTHONS))}) do" in install
    lo, hi = (tuple(int(x) for x in v.split(".")) for v in (bundle.PYTHONS[0], bundle.PYTHONS[-1]))
    assert f"{lo} <= sys.version_info[:2] <= {hi} and sys.maxsize > 2**32" in install


def test_built_bundle_resolves_for_every_supported_python(tmp_path):
    """Checks the newest dist/xfsheets-离线安装包-*.zip when one was built (make windows-bundle)."""
    bundle = _bundle_module()
    zips = sorted((ROOT / "dist").glob("xfsheets-离线安装包-*.zip"), key=lambda p: p.stat().st_mtime)
    if not zips:
        pytest.skip("no bundle built: run `make windows-bundle` (the CI run builds and checks one)")
    wheels = bundle.extract_wheels(zips[-1], tmp_path)
    ours = next(wheels.glob("xfsheets-*.whl"))
    shipped = {str(Requirement(r)) for r in bundle._metadata(ours).get_all("Requires-Dist") or []
               if "extra ==" not in r}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    if shipped != {str(Requirement(r)) for r in project["dependencies"]}:
        pytest.skip(f"{zips[-1].name} was built before pyproject.toml's dependencies changed: "
                    "run `make windows-bundle` again")
    table = bundle.verify(wheels.parent, tmp_path)
    assert [r["python"] for r in table] == list(bundle.PYTHONS)
    assert all(r["pip"] == "ok" and r["windows_markers"] == "ok" for r in table), table


# --- the .bat files under wine's cmd ------------------------------------------------------
# Not Windows' own cmd.exe, but the same batch language: this runs every branch of 安装.bat and
# 卸载.bat, as cmd reads the GBK/CRLF bundle copies with code page 936, against a stand-in py
# launcher (packaging/windows/fake_py.c) that logs how it was called. .ci/run installs wine64 and
# the mingw compiler; elsewhere the test is skipped with the reason.

WINE = Path("/usr/lib/wine/wine64")
MINGW = "x86_64-w64-mingw32-gcc"


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    import shutil

    if not WINE.exists() or shutil.which(MINGW) is None or shutil.which("localedef") is None:
        pytest.skip("needs wine64 and gcc-mingw-w64-x86-64-win32 (Debian packages; .ci/run installs them)")
    tmp = tmp_path_factory.mktemp("wine")
    locales = tmp / "locale"
    locales.mkdir()
    made = subprocess.run(["localedef", "-i", "zh_CN", "-f", "UTF-8", str(locales / "zh_CN.UTF-8")],
                          capture_output=True, text=True)
    if not (locales / "zh_CN.UTF-8").exists():
        pytest.skip(f"cannot make a zh_CN.UTF-8 locale for wine: {made.stderr[-200:]}")
    env = {**os.environ, "WINEPREFIX": str(tmp / "prefix"), "WINEDEBUG": "-all", "LANG": "zh_CN.UTF-8",
           "LOCPATH": str(locales)}
    env.pop("LC_ALL", None)
    env.pop("DISPLAY", None)
    subprocess.run([str(WINE), "wineboot", "-i"], env=env, capture_output=True, timeout=300, check=True)
    drive_c = tmp / "prefix" / "drive_c"
    subprocess.run([MINGW, "-O1", "-o", str(drive_c / "windows" / "py.exe"),
                    str(ROOT / "packaging" / "windows" / "fake_py.c")], check=True, capture_output=True)
    return env, drive_c


def run_bat(wine, name: str, with_wheels: bool = True, **flags: str) -> tuple[int, str, list[str]]:
    env, drive_c = wine
    bundle = _bundle_module()
    folder = drive_c / "测试 目录" / "xfsheets-离线安装包-0.1.0"
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if with_wheels:
        (folder / "wheels").mkdir()
    # ASCII names on the wine command line (its argv conversion depends on the host locale)
    for src, dst in (("安装.bat", "install.bat"), ("卸载.bat", "uninstall.bat")):
        (folder / dst).write_bytes(bundle.bat_bytes(ROOT / "packaging" / "windows" / src))
    log = drive_c / "fakepy.log"
    log.unlink(missing_ok=True)
    done = subprocess.run([str(WINE), "cmd", "/c", name], cwd=folder, env={**env, **flags}, input=b"\r\n",
                          capture_output=True, timeout=120)
    text = (done.stdout + done.stderr).decode("gbk", "replace")
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done.returncode, text, calls


def test_install_bat_finds_python_installs_offline_and_says_what_next(wine):
    rc, text, calls = run_bat(wine, "install.bat")
    assert rc == 0, text
    assert "找到 Python 3.12.1（py -3.12）" in text
    assert "安装完成：xfsheets 0.1.0 已安装到 Python 3.12.1" in text
    assert "本版本还没有 Excel 加载项" in text and "py -3.12 -m xfsheets excel install 台账.xlsx" in text
    install = next(c for c in calls if "-m pip install" in c)
    assert '--no-index --find-links "C:\\测试 目录\\xfsheets-离线安装包-0.1.0\\wheels"' in install
    assert calls[0].startswith("py -3.13 -c") and calls[1].startswith("py -3.12 -c")  # newest first
    assert any("excel addin --help" in c for c in calls) and not any("addin install" in c for c in calls)


def test_install_bat_installs_the_addin_when_the_command_exists(wine):
    rc, text, calls = run_bat(wine, "install.bat", FAKE_ADDIN="1")
    assert rc == 0 and "Excel 加载项已安装" in text and "重新打开 Excel" in text, text
    assert calls[-1].startswith("py -3.12 -m xfsheets excel addin install")


def test_install_bat_failures_are_explained_in_chinese(wine):
    rc, text, _ = run_bat(wine, "install.bat", FAKE_PIPFAIL="1")
    assert rc == 1 and "安装没有完成" in text and "截图" in text, text
    rc, text, calls = run_bat(wine, "install.bat", with_wheels=False)
    assert rc == 1 and "全部解压缩" in text and calls == [], text


def test_uninstall_bat_removes_the_package_only(wine):
    rc, text, calls = run_bat(wine, "uninstall.bat")
    assert rc == 0 and "卸载完成" in text, text
    assert "py -3.12 -m pip uninstall -y --disable-pip-version-check xfsheets" in [c.strip() for c in calls]
