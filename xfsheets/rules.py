"""Time limits as data: the stages of a petition matter, each with the field it starts
from, its limit, calendar-day or working-day counting, and the article it comes from.
The default set (rules.toml, shipped in the package) follows the 2022 regulation; a
bureau passes its own with ``--rules F`` (local limits, 简易办理 ...)."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from xfsheets.errors import ConfigError
from xfsheets.schema import DATE_FIELDS, FIELD_BY_NAME

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STAGE_KEYS = ("register", "accept", "handle", "review", "recheck")


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    start: str
    days: int
    counting: str  # calendar | workday
    article: str
    end: str = "closed_on"
    extension_field: str | None = None
    max_extension: int = 0

    @property
    def limit_text(self) -> str:
        return f"{self.days}{'个工作日' if self.counting == 'workday' else '日'}"


@dataclass(frozen=True)
class Rules:
    stages: dict[str, Stage]
    source: str

    def __getitem__(self, key: str) -> Stage:
        return self.stages[key]


def load_rules(path: str | Path | None = None) -> Rules:
    """The default rule set, or the user's TOML file (every mistake named with the file)."""
    if path is None:
        text = (resources.files("xfsheets") / "rules.toml").read_text(encoding="utf-8")
        source = "内置规则（《信访工作条例》2022）"
    else:
        from xfsheets.textfiles import load_toml

        path = Path(path)
        if not path.exists():
            raise ConfigError("找不到时限规则文件", file=path, hint="请检查 --rules 的路径")
        source = str(path)
        data = load_toml(path, "时限规则文件", hint="请按内置 rules.toml 的格式书写")
    if path is None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:  # the shipped file: a packaging fault, said plainly
            raise ConfigError(f"内置时限规则文件格式有误：{exc}", file=source) from exc
    if not isinstance(data.get("stage", []), list) or not all(isinstance(i, dict) for i in data.get("stage", [])):
        raise ConfigError("时限规则文件中每个阶段应写成 [[stage]] 表", file=source,
                          hint="请按内置 rules.toml 的格式书写")
    stages: dict[str, Stage] = {}
    for k, item in enumerate(data.get("stage", []), 1):
        where = f"第 {k} 个 [[stage]]"
        try:
            stage = Stage(key=item["key"], label=item.get("label", item["key"]), start=item["start"],
                          days=int(item["days"]), counting=item.get("counting", "calendar"),
                          article=item.get("article", ""), end=item.get("end", "closed_on"),
                          extension_field=item.get("extension_field"), max_extension=int(item.get("max_extension", 0)))
        except KeyError as exc:
            raise ConfigError(f"{where} 缺少 {exc.args[0]}", file=source, hint="每个阶段需要 key、start、days") from exc
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where} 的 days/max_extension 应为整数", file=source) from exc
        if stage.key not in STAGE_KEYS:
            raise ConfigError(f"{where} 的 key「{stage.key}」不认识", file=source, hint=f"可用：{'、'.join(STAGE_KEYS)}")
        for f in (stage.start, stage.end):
            if f not in DATE_FIELDS:
                raise ConfigError(f"{where} 的日期字段「{f}」不存在", file=source, hint=f"可用：{'、'.join(DATE_FIELDS)}")
        if stage.counting not in ("calendar", "workday"):
            raise ConfigError(f"{where} 的 counting「{stage.counting}」无效", file=source,
                              hint="“日”写 calendar，“工作日”写 workday")
        if stage.days <= 0:
            raise ConfigError(f"{where} 的 days 应大于 0", file=source)
        if stage.extension_field and stage.extension_field not in FIELD_BY_NAME:
            raise ConfigError(f"{where} 的 extension_field「{stage.extension_field}」不存在", file=source)
        stages[stage.key] = stage
    missing = [k for k in STAGE_KEYS if k not in stages]
    if missing:
        raise ConfigError(f"时限规则缺少阶段：{'、'.join(missing)}", file=source,
                          hint="register、accept、handle、review、recheck 五个阶段都要写")
    return Rules(stages=stages, source=source)
