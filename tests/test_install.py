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
    result["test_tools"] = [m for m in ("pytest", "hypothesis", "polars", "fastexcel", "oletools")
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
    expected = {f"xfsheets.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in ("__init__",)}
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
