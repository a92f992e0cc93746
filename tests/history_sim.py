"""A month of a clerk's edits on one ledger, replayed day by day: what the history must find.

The clerk sorts the sheet, inserts and deletes rows, closes matters, corrects values, renumbers,
fills missing 信访件编号, approves extensions, and once corrects both the 编号 and the 身份证号 of a matter
(which only the similarity rule can follow). Every edit is planted as the events it must produce, keyed
by the row's simulation id; ``layout[day]`` says on which Excel row each id stood that day, so the
events ``changes`` reports (which name the file, sheet and row) can be traced back to ids.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

COLUMNS = [("case_id", "信访件编号"), ("received_on", "登记日期"), ("petitioner", "信访人"), ("id_number", "身份证号"),
           ("phone", "联系电话"), ("summary", "反映问题"), ("unit", "责任单位"), ("assigned_on", "交办日期"),
           ("accepted_on", "受理日期"), ("extension_days", "延期天数"), ("status", "办理状态"),
           ("closed_on", "办结日期"), ("reply", "办理结果")]
UNITS = ["县人社局", "县住建局", "县教育局", "县卫健局", "城关镇", "河西乡", "县公安局", "县自然资源局"]
TOPICS = ["拖欠农民工工资", "征地补偿标准", "物业服务收费", "学校招生划片", "医疗费用报销", "宅基地纠纷", "噪声扰民",
          "社保关系转移", "房屋质量问题", "违章建筑", "道路修缮", "低保资格认定"]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅玉兰志"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(rng: random.Random, birth: dt.date) -> str:
    body = f"450324{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS))
    return body + "10X98765432"[total % 11]


@dataclass
class Sim:
    rows: list[dict] = field(default_factory=list)  # the ledger in its current order; each has "_id"
    planted: list[tuple[str, int, str, str | None]] = field(default_factory=list)  # (day, id, kind, field)
    layout: dict[str, dict[int, int]] = field(default_factory=dict)  # day -> id -> Excel row
    next_id: int = 0
    reported: set[int] = field(default_factory=set)  # ids whose current version went upward
    closed: set[int] = field(default_factory=set)

    def plant(self, day: dt.date, rid: int, kind: str, fld: str | None = None) -> None:
        self.planted.append((day.isoformat(), rid, kind, fld))

    def edit(self, day: dt.date, row: dict, fld: str, value: str) -> None:
        """Set one cell, planting the field event and the after-close / after-report alerts."""
        old = row.get(fld, "")
        if old == value:
            return
        kind = ("case_id_filled" if fld == "case_id" else "filled") if not old else (
            "cleared" if not value else "corrected")
        row[fld] = value
        self.plant(day, row["_id"], kind, fld)

    def alerts(self, day: dt.date, row: dict, was_closed: bool) -> None:
        if was_closed:
            self.plant(day, row["_id"], "changed_after_close")
        if row["_id"] in self.reported:
            self.plant(day, row["_id"], "changed_after_report")
            self.reported.discard(row["_id"])


def new_row(sim: Sim, rng: random.Random, received: dt.date, *, numbered: bool = True) -> dict:
    sim.next_id += 1
    rid = sim.next_id
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20000))
    accepted = received + dt.timedelta(days=rng.randint(1, 10))
    return {"_id": rid, "case_id": f"XF-2026-{rid:05d}" if numbered else "", "received_on": received.isoformat(),
            "petitioner": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) + str(rid),
            "id_number": id_number(rng, birth), "phone": f"139{rid:08d}",
            "summary": f"反映{rng.choice(TOPICS)}问题（{rid}号），请求依法处理",
            "unit": rng.choice(UNITS), "assigned_on": received.isoformat(), "accepted_on": accepted.isoformat(),
            "extension_days": "", "status": "办理中", "closed_on": "", "reply": ""}


def write(sim: Sim, path: Path, day: dt.date) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("信访台账")
    ws.write_row(0, 0, [label for _, label in COLUMNS])
    layout = {}
    for i, row in enumerate(sim.rows, start=1):
        ws.write_row(i, 0, [row.get(f, "") for f, _ in COLUMNS])
        layout[row["_id"]] = i + 1
    wb.close()
    sim.layout[day.isoformat()] = layout


def start(rng: random.Random, size: int, first_day: dt.date) -> Sim:
    sim = Sim()
    for i in range(size):
        received = first_day - dt.timedelta(days=rng.randint(1, 50))
        sim.rows.append(new_row(sim, rng, received, numbered=rng.random() > 0.05))
    return sim


def one_day(sim: Sim, rng: random.Random, day: dt.date, scale: int = 1) -> None:
    """The clerk's edits of one day (about ``scale`` x 12 edits)."""
    open_rows = lambda: [r for r in sim.rows if r["status"] != "已办结"]  # noqa: E731
    closed_before = set(sim.closed)  # "after close" means closed on an earlier day
    for _ in range(1 * scale):  # a duplicate row deleted
        row = sim.rows.pop(rng.randrange(len(sim.rows)))
        sim.plant(day, row["_id"], "gone")
        sim.closed.discard(row["_id"])
    for row in rng.sample(open_rows(), 3 * scale):  # closings
        if row["_id"] in sim.closed:
            continue
        sim.edit(day, row, "status", "已办结")
        sim.edit(day, row, "closed_on", day.isoformat())
        sim.edit(day, row, "reply", "已答复信访人，依法依规处理到位")
        sim.plant(day, row["_id"], "closed")
        sim.alerts(day, row, False)
        sim.closed.add(row["_id"])
    for row in rng.sample(sim.rows, 2 * scale):  # corrections of a typed value
        was_closed = row["_id"] in closed_before
        sim.edit(day, row, "summary", row["summary"].replace("请求", "要求", 1) if "请求" in row["summary"]
                 else row["summary"] + "（已核实）")
        sim.alerts(day, row, was_closed)
    for row in rng.sample([r for r in sim.rows if r["case_id"]], 1 * scale):  # renumbering
        was_closed = row["_id"] in closed_before
        sim.edit(day, row, "case_id", row["case_id"].replace("XF-", "XFR-"))
        sim.alerts(day, row, was_closed)
    blanks = [r for r in sim.rows if not r["case_id"]]
    for row in rng.sample(blanks, min(len(blanks), 2 * scale)):  # missing numbers filled in
        was_closed = row["_id"] in closed_before
        sim.edit(day, row, "case_id", f"XF-2026-B{row['_id']:05d}")
        sim.alerts(day, row, was_closed)
    for row in rng.sample(open_rows(), 1 * scale):  # an approved extension
        if row["extension_days"]:
            continue
        sim.edit(day, row, "extension_days", "30")
        sim.edit(day, row, "status", "延期办理")
        sim.plant(day, row["_id"], "extended")
        sim.alerts(day, row, False)
    for _ in range(2 * scale):  # new registrations (after the edits: a row new today has no edits)
        row = new_row(sim, rng, day)
        sim.rows.insert(rng.randrange(len(sim.rows) + 1), row)
        sim.plant(day, row["_id"], "new")
    key = rng.choice(["case_id", "received_on", "unit", "petitioner", "summary"])  # the clerk sorts
    if rng.random() > 0.5:
        sim.rows.sort(key=lambda r: (r.get(key, ""), r["_id"]))
    else:
        rng.shuffle(sim.rows)


def similar_edit(sim: Sim, rng: random.Random, day: dt.date) -> int:
    """Renumber a matter and correct its ID number and phone the same day (the clerk retyped the row):
    only 'similar' can follow it."""
    row = rng.choice([r for r in sim.rows if r["case_id"] and r["_id"] not in sim.closed])
    was_closed = False
    sim.edit(day, row, "case_id", row["case_id"] + "-改")
    birth = dt.date(1960, 5, 5)
    sim.edit(day, row, "id_number", id_number(random.Random(row["_id"]), birth))
    sim.edit(day, row, "phone", f"138{row['_id']:08d}")
    sim.plant(day, row["_id"], "similar")
    sim.alerts(day, row, was_closed)
    return row["_id"]


def trace(sim: Sim, events: list[dict]) -> list[tuple[str, int, str, str | None]]:
    """Found events as (day, id, kind, field), by the row each event names."""
    days = sorted(sim.layout)
    by_row = {d: {row: rid for rid, row in lay.items()} for d, lay in sim.layout.items()}
    out = []
    for e in events:
        day = e["as_of"]
        lay = by_row[day] if e["kind"] != "gone" else by_row[days[days.index(day) - 1]]
        out.append((day, lay.get(e["row"], -1), e["kind"], e["field"]))
    return out


def compare(planted: list, found: list, kinds: set[str]) -> dict[str, dict[str, int]]:
    """Per kind: planted, found, wrong (found but not planted, plus planted but not found)."""
    p = Counter(x for x in planted if x[2] in kinds)
    f = Counter(x for x in found if x[2] in kinds)
    table = {}
    for kind in sorted(kinds):
        pk = Counter({k: v for k, v in p.items() if k[2] == kind})
        fk = Counter({k: v for k, v in f.items() if k[2] == kind})
        table[kind] = {"planted": sum(pk.values()), "found": sum(fk.values()),
                       "wrong": sum((fk - pk).values()) + sum((pk - fk).values())}
    return table
