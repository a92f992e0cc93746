"""The operating system's own schedule for ``xfsheets remind``: Windows Task Scheduler (schtasks), a systemd user
timer, or a cron line. The plan is shown before anything is installed (installing needs ``--yes``) and says how
to remove it. The schedule only starts the command: the command itself keeps to office hours and rest days."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from xfsheets.errors import ConfigError, XfsheetsError

TASK = "xfsheets信访提醒"
UNIT = "xfsheets-remind"
CRON_MARK = "# xfsheets-remind"


@dataclass
class SchedulePlan:
    kind: str  # schtasks | systemd | cron
    shown: str  # what will be installed, as the clerk reads it
    remove_shown: str  # how it is removed
    files: dict[Path, str] = field(default_factory=dict)  # files written on install (systemd units)
    install: list[list[str]] = field(default_factory=list)
    remove: list[list[str]] = field(default_factory=list)
    cron_lines: list[str] = field(default_factory=list)


def system_kind(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "win32"
    return "linux-systemd" if shutil.which("systemctl") else "linux-cron"


def _times(times: list[str]) -> list[tuple[int, int]]:
    out = []
    for t in times or ["09:00"]:
        m = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", t)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ConfigError(f"--time「{t}」应写成“时:分”，如 09:00", hint="可写多次：--time 09:00 --time 14:30")
        out.append((int(m.group(1)), int(m.group(2))))
    return sorted(set(out))


def schedule_plan(system: str | None, *, times: list[str], ledgers: list[Path], contacts: Path | None,
                  python: str | None = None, config: Path | None = None, home: Path | None = None) -> SchedulePlan:
    kind = system or system_kind()
    command = [python or sys.executable, "-m", "xfsheets", "remind", *[str(Path(p).resolve()) for p in ledgers]]
    if contacts:
        command += ["--contacts", str(Path(contacts).resolve())]
    if config:
        command += ["--config", str(Path(config).resolve())]
    slots = _times(times)
    if kind == "win32":
        line = subprocess.list2cmdline(command)
        install = [["schtasks", "/Create", "/F", "/TN", f"{TASK}_{h:02d}{m:02d}", "/SC", "DAILY", "/ST", f"{h:02d}:{m:02d}",
                    "/TR", line] for h, m in slots]
        remove = [["schtasks", "/Delete", "/F", "/TN", f"{TASK}_{h:02d}{m:02d}"] for h, m in slots]
        return SchedulePlan(kind="schtasks", shown="\n".join(subprocess.list2cmdline(c) for c in install),
                            remove_shown="\n".join(subprocess.list2cmdline(c) for c in remove),
                            install=install, remove=remove)
    if kind == "linux-systemd":
        folder = (home or Path.home()) / ".config" / "systemd" / "user"
        service = ("[Unit]\nDescription=xfsheets 信访事项时限提醒\n\n[Service]\nType=oneshot\n"
                   f"ExecStart={' '.join(_systemd_quote(c) for c in command)}\n")
        timer = ("[Unit]\nDescription=xfsheets 信访事项时限提醒（定时）\n\n[Timer]\n"
                 + "".join(f"OnCalendar=*-*-* {h:02d}:{m:02d}:00\n" for h, m in slots)
                 + "Persistent=true\n\n[Install]\nWantedBy=timers.target\n")
        files = {folder / f"{UNIT}.service": service, folder / f"{UNIT}.timer": timer}
        shown = "\n".join(f"# {p}\n{t}" for p, t in files.items()) + \
            f"\n# 然后运行：systemctl --user daemon-reload && systemctl --user enable --now {UNIT}.timer"
        return SchedulePlan(kind="systemd", shown=shown, files=files,
                            install=[["systemctl", "--user", "daemon-reload"],
                                     ["systemctl", "--user", "enable", "--now", f"{UNIT}.timer"]],
                            remove=[["systemctl", "--user", "disable", "--now", f"{UNIT}.timer"]],
                            remove_shown=f"systemctl --user disable --now {UNIT}.timer，并删除 {folder}/{UNIT}.*")
    lines = [f"{m} {h} * * * {shlex.join(command)} {CRON_MARK}" for h, m in slots]
    return SchedulePlan(kind="cron", shown="\n".join(lines), cron_lines=lines,
                        remove_shown=f"从 crontab 中删去以“{CRON_MARK}”结尾的行")


def _systemd_quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:@%+=,-]+", arg) else '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run(cmd: list[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise XfsheetsError(f"无法运行 {cmd[0]}：{exc}", hint="请确认本机有这个系统命令，或按上面显示的内容手工设置") from exc
    if done.returncode != 0:
        raise XfsheetsError(f"{cmd[0]} 没有成功：{(done.stderr or done.stdout).strip()[:200]}",
                            hint="请按上面显示的内容手工设置，或把这条信息告诉技术人员")
    return done.stdout


def _crontab() -> list[str]:
    try:
        return [l for l in _run(["crontab", "-l"]).splitlines() if l.strip()]
    except XfsheetsError:
        return []  # no crontab yet


def install(plan: SchedulePlan) -> None:
    from xfsheets.writer import atomic_path

    if plan.kind == "cron":
        kept = [l for l in _crontab() if not l.endswith(CRON_MARK)]
        _run(["crontab", "-"], "\n".join([*kept, *plan.cron_lines]) + "\n")
        return
    for path, text in plan.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, guard=False) as tmp:
            tmp.write_text(text, encoding="utf-8")
    for cmd in plan.install:
        _run(cmd)


def remove(plan: SchedulePlan) -> None:
    if plan.kind == "cron":
        _run(["crontab", "-"], "\n".join(l for l in _crontab() if not l.endswith(CRON_MARK)) + "\n")
        return
    for cmd in plan.remove:
        try:
            _run(cmd)
        except XfsheetsError:
            if plan.kind != "systemd":
                raise
    for path in plan.files:
        path.unlink(missing_ok=True)
    if plan.kind == "systemd":
        _run(["systemctl", "--user", "daemon-reload"])
