"""Build and check the offline Windows bundle (issue 13).

    python packaging/windows/build_bundle.py build [--out dist]   # build, then verify
    python packaging/windows/build_bundle.py verify dist/xfsheets-离线安装包-0.1.0.zip

The bundle is one zip, ``dist/xfsheets-离线安装包-VERSION.zip``, holding a folder with
``安装.bat``, ``卸载.bat``, ``使用说明.txt`` and ``wheels/``: our wheel and every dependency wheel for
Windows x64 and each supported Python, so that installing needs neither the internet nor a terminal.

Why two resolution checks: ``pip download/install --platform win_amd64 --python-version X`` picks
wheels for the target, but evaluates environment markers (``platform_system == "Windows"``,
``sys_platform == "win32"``) for the machine pip runs on. On Linux it therefore leaves out
Windows-only dependencies (xlwings -> pywin32, keyring -> pywin32-ctypes, click -> colorama) and
``pip install --dry-run`` here still says the set is complete. So the build also resolves the set
itself with the markers of a Windows x64 CPython X (``windows_closure``) and downloads whatever that
finds missing, and ``verify`` runs both checks: pip's, and the Windows-marker closure.

Encodings, chosen for the PCs of a Chinese county office (Simplified-Chinese Windows, console code
page 936): the .bat files are written in GBK (code page 936) with CRLF line endings and no BOM, and
switch the console to 936 on their second line (the first is ASCII). cmd.exe decodes each line of a
batch file with the console code page current when it reads the line, so this also holds on a PC
set to code page 65001 ("Beta: use Unicode UTF-8"), and it avoids the known ``chcp 65001`` batch
bugs of older Windows. 使用说明.txt is UTF-8 with a BOM and CRLF (Notepad on every Windows version
reads that). The names inside the zip are written in code page 936 without the UTF-8 flag, as
Chinese Windows' own "send to compressed folder" does, so Explorer, 7-Zip, WinRAR and 360压缩 on a
Chinese PC all show them right.
"""
from __future__ import annotations

import argparse
import email.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHONS = ("3.11", "3.12", "3.13")  # requires-python >= 3.11 (xlwings 0.37.8); 3.14 not yet supported
BAT_ENCODING = "gbk"
ZIP_NAME_ENCODING = "gbk"
FILES = ("安装.bat", "卸载.bat", "使用说明.txt")


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def bundle_name(ver: str | None = None) -> str:
    return f"xfsheets-离线安装包-{ver or version()}"


# --- file contents --------------------------------------------------------------------------

def bat_bytes(path: Path) -> bytes:
    """The bundle's copy of a .bat kept here as UTF-8/LF: GBK, CRLF, no BOM."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return text.replace("\n", "\r\n").encode(BAT_ENCODING)


def txt_bytes(path: Path) -> bytes:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return text.replace("\n", "\r\n").encode("utf-8-sig")


class _GbkZipInfo(zipfile.ZipInfo):
    """Stores the file name in code page 936 without the UTF-8 flag (see the module docstring)."""

    def _encodeFilenameFlags(self):  # noqa: N802 (zipfile's own name)
        try:
            return self.filename.encode("ascii"), self.flag_bits
        except UnicodeEncodeError:
            return self.filename.encode(ZIP_NAME_ENCODING), self.flag_bits & ~0x800


# --- resolution with Windows markers ----------------------------------------------------------

def windows_environment(py: str) -> dict[str, str]:
    return {
        "python_version": py, "python_full_version": f"{py}.0", "implementation_version": f"{py}.0",
        "implementation_name": "cpython", "platform_python_implementation": "CPython",
        "sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
        "platform_machine": "AMD64", "platform_release": "10", "platform_version": "10.0.19045",
    }


def supported_tags(py: str) -> set[Tag]:
    major, minor = (int(x) for x in py.split("."))
    return set(cpython_tags((major, minor), platforms=["win_amd64"])) | set(
        compatible_tags((major, minor), interpreter=f"cp{major}{minor}", platforms=["win_amd64"]))


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(name).decode("utf-8"))


def windows_closure(wheels: Path, py: str, root: str = "xfsheets") -> tuple[dict[str, Path], list[str]]:
    """Resolve ``root`` from the wheels in a folder as a Windows x64 CPython ``py`` would.

    Returns ({project: wheel chosen}, [requirements no wheel here satisfies]). No backtracking: pip
    did the real resolution; this checks that its set is closed under the Windows markers.
    """
    tags, env = supported_tags(py), windows_environment(py)
    index: dict[str, list[tuple[Version, Path]]] = {}
    for whl in wheels.glob("*.whl"):
        name, ver, _, wtags = parse_wheel_filename(whl.name)
        if wtags & tags:
            index.setdefault(name, []).append((ver, whl))
    chosen: dict[str, Path] = {}
    versions: dict[str, Version] = {}
    missing: list[str] = []
    queue = [(Requirement(root), "")]
    while queue:
        req, extra = queue.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name in versions:
            if not req.specifier.contains(versions[name], prereleases=True):
                missing.append(f"{req} (conflicts with {name} {versions[name]})")
            if not req.extras:
                continue
        options = sorted((c for c in index.get(name, []) if req.specifier.contains(c[0], prereleases=True)),
                         reverse=True)
        fitting = []
        for ver, whl in options:
            meta = _metadata(whl)
            rp = meta.get("Requires-Python")
            if rp is None or SpecifierSet(rp).contains(f"{py}.0", prereleases=True):
                fitting.append((ver, whl, meta))
        if not fitting:
            missing.append(str(Requirement(f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}"
                                           f"{req.specifier}")))
            continue
        ver, whl, meta = fitting[0] if name not in versions else next(
            (f for f in fitting if f[0] == versions[name]), fitting[0])
        first_time = name not in versions
        versions[name], chosen[name] = ver, whl
        for line in meta.get_all("Requires-Dist") or []:
            dep = Requirement(line)
            if dep.marker is None or "extra" not in str(dep.marker):
                if first_time:
                    queue.append((dep, ""))
            else:
                for e in req.extras:
                    if dep.marker.evaluate({**env, "extra": canonicalize_name(e)}):
                        queue.append((dep, canonicalize_name(e)))
    return chosen, sorted(set(missing))


# --- pip --------------------------------------------------------------------------------------

def _pip_env(offline: bool) -> dict[str, str]:
    env = dict(os.environ)
    if offline:  # nothing but the bundle's folder: no configured find-links, indexes or constraints
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _pip(args: list[str], offline: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=_pip_env(offline))


def _target(py: str) -> list[str]:
    return ["--platform", "win_amd64", "--python-version", py, "--implementation", "cp",
            "--only-binary=:all:"]


def download(wheels: Path, our_wheel: Path) -> None:
    for py in PYTHONS:
        print(f"downloading wheels for Windows x64, Python {py} ...", file=sys.stderr, flush=True)
        done = _pip(["download", "-q", "-d", str(wheels), *_target(py), str(our_wheel)])
        if done.returncode != 0:
            raise SystemExit(f"pip download failed for Python {py}:\n{done.stderr}")
        for _ in range(10):  # pip skipped dependencies behind Windows-only markers: add them
            _, missing = windows_closure(wheels, py)
            if not missing:
                break
            print(f"  + Windows-only: {', '.join(missing)}", file=sys.stderr, flush=True)
            done = _pip(["download", "-q", "-d", str(wheels), *_target(py), *missing])
            if done.returncode != 0:
                raise SystemExit(f"pip download failed for Python {py}:\n{done.stderr}")


def build(out: Path) -> Path:
    ver = version()
    work = ROOT / "build" / "windows-bundle"
    shutil.rmtree(work, ignore_errors=True)
    wheels = work / "wheels"
    wheels.mkdir(parents=True)
    done = _pip(["wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)])
    if done.returncode != 0:
        raise SystemExit(f"building the xfsheets wheel failed:\n{done.stderr}")
    our_wheel = next(wheels.glob(f"xfsheets-{ver}-*.whl"))
    download(wheels, our_wheel)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{bundle_name(ver)}.zip"
    partial = target.with_suffix(".zip.partial")
    top = bundle_name(ver)
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: bytes) -> None:
            info = _GbkZipInfo(f"{top}/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
        add("安装.bat", bat_bytes(HERE / "安装.bat"))
        add("卸载.bat", bat_bytes(HERE / "卸载.bat"))
        add("使用说明.txt", txt_bytes(HERE / "使用说明.txt"))
        for whl in sorted(wheels.glob("*.whl")):
            info = _GbkZipInfo(f"{top}/wheels/{whl.name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED  # wheels are zips already
            info.external_attr = 0o644 << 16
            with open(whl, "rb") as fh, zf.open(info, "w") as dst:
                shutil.copyfileobj(fh, dst, 1 << 20)
    partial.replace(target)
    return target


# --- verify -----------------------------------------------------------------------------------

def extract_wheels(bundle: Path, into: Path) -> Path:
    """The bundle's wheels/ folder (a zip is unpacked into ``into``; a folder is used as it is)."""
    if bundle.is_dir():
        return bundle / "wheels" if (bundle / "wheels").is_dir() else bundle
    wheels = into / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bundle, metadata_encoding=ZIP_NAME_ENCODING) as zf:
        names = zf.namelist()
        for name in FILES:
            if not any(n.endswith(f"/{name}") for n in names):
                raise SystemExit(f"{bundle.name}: {name} is missing")
        for name in names:
            if "/wheels/" in name and name.endswith(".whl"):
                (wheels / Path(name).name).write_bytes(zf.read(name))
    return wheels


def verify(bundle: Path, tmp: Path | None = None) -> list[dict]:
    """For each supported Python: pip's offline dry run and the Windows-marker closure."""
    owned = tmp is None
    tmp = Path(tempfile.mkdtemp()) if owned else tmp
    try:
        wheels = extract_wheels(bundle, tmp)
        rows = []
        for py in PYTHONS:
            report = tmp / f"report-{py}.json"
            done = _pip(["install", "--dry-run", "--no-index", "--find-links", str(wheels), *_target(py),
                         "--target", str(tmp / f"target-{py}"), "--report", str(report), "--isolated",
                         "xfsheets"], offline=True)
            pip_count = len(json.loads(report.read_text())["install"]) if done.returncode == 0 else 0
            chosen, missing = windows_closure(wheels, py)
            rows.append({
                "python": py,
                "pip": "ok" if done.returncode == 0 else "FAILED: " + done.stderr.strip().splitlines()[-1],
                "pip_packages": pip_count,
                "windows_markers": "ok" if not missing else "MISSING: " + ", ".join(missing),
                "windows_packages": len(chosen),
                "windows_only": ", ".join(sorted(set(chosen) - _pip_names(report))) if done.returncode == 0 else "",
                "binary_wheels": sum(1 for p in chosen.values() if not p.name.endswith("-none-any.whl")),
                "mb": round(sum(p.stat().st_size for p in chosen.values()) / 2**20, 1),
            })
        return rows
    finally:
        if owned:
            shutil.rmtree(tmp, ignore_errors=True)


def _pip_names(report: Path) -> set[str]:
    return {canonicalize_name(i["metadata"]["name"]) for i in json.loads(report.read_text())["install"]}


def print_table(rows: list[dict], bundle: Path) -> None:
    size = bundle.stat().st_size / 2**20 if bundle.is_file() else 0
    print(f"{bundle.name}  ({size:.0f} MB)")
    print("| Python | pip --dry-run (Linux markers) | packages | Windows-marker closure | packages | "
          "Windows-only (pip here misses them) | binary wheels | MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['python']} | {r['pip']} | {r['pip_packages']} | {r['windows_markers']} | "
              f"{r['windows_packages']} | {r['windows_only']} | {r['binary_wheels']} | {r['mb']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build dist/xfsheets-离线安装包-VERSION.zip, then verify it")
    b.add_argument("--out", type=Path, default=ROOT / "dist")
    v = sub.add_parser("verify", help="check that a built bundle resolves for every supported Python")
    v.add_argument("bundle", type=Path)
    args = parser.parse_args(argv)
    bundle = build(args.out) if args.command == "build" else args.bundle
    rows = verify(bundle)
    print_table(rows, bundle)
    ok = all(r["pip"] == "ok" and r["windows_markers"] == "ok" for r in rows)
    if not ok:
        print("the bundle does not resolve for every supported Python", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
