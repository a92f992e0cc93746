"""Realistic generated ledgers for the demo, the benchmarks and tests.

``sample_rows`` makes the cells of a county ledger (Chinese text, valid identity
numbers, consistent dates and statuses), optionally with planted defects;
``write_sample_ledger`` writes them as a bureau would: a title row, a 填报单位 line,
and one of several header layouts. ``python -m xfsheets.sample DIR`` writes the
bundled sample set used by ``xfsheets demo``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from xfsheets.writer import atomic_path

UNITS = ["县人社局", "县住建局", "县自然资源局", "县教育局", "县卫健局", "县公安局", "城关镇", "河西镇",
         "青山乡", "县市场监管局", "县农业农村局", "县交通运输局"]
PLACES = ["城关镇", "河西镇", "青山乡", "白石镇", "龙门乡", "新安镇"]
CATEGORIES = ["劳动社保", "城乡建设", "国土资源水利林业", "教育", "卫生健康", "政法", "农村农业",
              "交通能源环保", "民政", "商贸旅游", "经济综合", "其他"]
CHANNELS = ["来信", "来访", "网上信访", "来电", "12345", "领导信箱", "上级交办"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦蒙覃莫")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国文红")
LEADERS = ["黄副县长", "李副县长", "陈局长", "王书记", "刘镇长", "赵局长"]
PROBLEMS = [
    "反映某建筑公司拖欠农民工工资共计{n}万元，多次讨要未果，请求督促支付",
    "反映{p}征地补偿款未足额发放，要求按标准补偿",
    "反映小区物业服务不到位，电梯长期故障，要求整改",
    "反映子女入学学位分配不公，请求重新安排就近入学",
    "反映医疗纠纷处理结果不满意，要求重新鉴定",
    "反映邻里宅基地界址纠纷，要求依法确权",
    "反映养殖场污水直排河道，影响周边群众生活",
    "反映低保资格被取消，要求说明理由并恢复",
    "反映道路施工噪音扰民，夜间施工影响休息",
    "反映购房合同纠纷，开发商逾期交房{n}个月",
]
REPLIES = ["已督促用人单位足额支付工资", "经核查已按政策补偿到位", "已约谈相关单位限期整改",
           "已向信访人当面答复并做好解释", "依法告知通过诉讼途径解决"]
STATUS_OPEN = ["已交办", "已受理", "办理中", "延期办理"]
STATUS_CLOSED = ["已办结", "已化解", "息诉罢访"]

LABELS_STANDARD = ["序号", "信访件编号", "登记日期", "信访形式", "信访人", "身份证号", "联系电话", "住址", "人数",
                   "问题发生地", "问题类别", "信访性质", "反映问题", "交办单位", "责任单位", "责任人", "包案领导",
                   "交办日期", "受理日期", "办理时限", "延期天数", "办理状态", "办结日期", "办理结果", "满意度", "备注"]
# Variant 1: the labels another unit uses for the same columns.
LABELS_SYNONYMS = ["序号", "编号", "来信来访日期", "信访方式", "信访人姓名", "身份证号码", "联系方式", "家庭住址",
                   "来访人数", "属地", "问题分类", "信访性质", "主要诉求", "转送单位", "承办单位", "承办人",
                   "包保领导", "交办时间", "受理时间", "限办日期", "延期", "办理进度", "办结时间", "处理结果",
                   "群众满意度", "备注"]


def id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` valid 18-character identity numbers (ISO 7064 MOD 11-2 check digit)."""
    from xfsheets.checks import id_check_digits

    region = rng.choice([450324, 450321, 450305, 110105, 440106], n)
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n).astype("timedelta64[D]")
    birth_s = np.char.replace(np.datetime_as_string(birth, unit="D").astype(str), "-", "")
    seq = rng.integers(0, 1000, n)
    body = np.char.add(np.char.add(region.astype(str), birth_s), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(body.tolist()).encode(), dtype=np.uint8).reshape(n, 17) - 48
    check = id_check_digits(digits)
    return np.char.add(body, check)


def sample_rows(rows: int = 1000, *, seed: int = 0, units: list[str] | None = None,
                start: dt.date = dt.date(2026, 1, 5), end: dt.date = dt.date(2026, 11, 20),
                as_of: dt.date = dt.date(2026, 11, 25), defects: float = 0.0,
                prefix: str = "X") -> list[list[Any]]:
    """Cells of ``rows`` ledger rows in the column order of LABELS_STANDARD."""
    rng = np.random.default_rng(seed)
    units = units or UNITS
    span = max((end - start).days, 1)
    received = np.datetime64(start) + np.sort(rng.integers(0, span, rows)).astype("timedelta64[D]")
    assigned = received + rng.integers(0, 9, rows).astype("timedelta64[D]")
    accepted = assigned + rng.integers(1, 10, rows).astype("timedelta64[D]")
    handling = rng.integers(5, 75, rows)
    closed = accepted + handling.astype("timedelta64[D]")
    today = np.datetime64(as_of)
    is_closed = (closed <= today) & (rng.random(rows) < 0.93)
    extension = np.where((handling > 58) & (rng.random(rows) < 0.5), rng.choice([15, 30], rows), 0)
    due = accepted + (60 + extension).astype("timedelta64[D]")
    ids = id_numbers(rng, rows)
    phones = np.char.add("1", rng.integers(3000000000, 9999999999, rows).astype(str))
    headcount = np.where(rng.random(rows) < 0.04, rng.integers(5, 30, rows), rng.integers(1, 3, rows))
    out: list[list[Any]] = []
    for i in range(rows):
        name = SURNAMES[rng.integers(len(SURNAMES))] + "".join(GIVEN[j] for j in rng.integers(0, len(GIVEN), rng.integers(1, 3)))
        problem = PROBLEMS[i % len(PROBLEMS)].format(n=int(rng.integers(2, 40)), p=PLACES[i % len(PLACES)])
        closed_i = bool(is_closed[i])
        status = STATUS_CLOSED[i % 3] if closed_i else (
            "延期办理" if extension[i] else STATUS_OPEN[int(rng.integers(0, 3))] if accepted[i] <= today else "已交办")
        has_accepted = status not in ("已交办",)
        row = [
            i + 1,
            f"{prefix}{received[i].astype(object).year}-{i + 1:05d}",
            received[i].astype(object),
            CHANNELS[int(rng.integers(len(CHANNELS)))],
            name,
            str(ids[i]),
            str(phones[i]),
            f"{PLACES[i % len(PLACES)]}{int(rng.integers(1, 30))}组",
            int(headcount[i]),
            PLACES[int(rng.integers(len(PLACES)))],
            CATEGORIES[int(rng.integers(len(CATEGORIES)))],
            "集体访" if headcount[i] >= 5 else ("重信重访" if rng.random() < 0.15 else "初信初访"),
            problem,
            "县信访局",
            units[int(rng.integers(len(units)))],
            SURNAMES[int(rng.integers(len(SURNAMES)))] + "科长",
            LEADERS[int(rng.integers(len(LEADERS)))],
            assigned[i].astype(object),
            accepted[i].astype(object) if has_accepted else None,
            due[i].astype(object) if has_accepted else None,
            int(extension[i]) if extension[i] else None,
            status,
            closed[i].astype(object) if closed_i else None,
            REPLIES[i % len(REPLIES)] if closed_i else None,
            ("满意" if rng.random() < 0.7 else "基本满意" if rng.random() < 0.6 else "不满意") if closed_i and rng.random() < 0.85 else None,
            None,
        ]
        out.append(row)
    if defects:
        plant_defects(out, rng, defects)
    return out


def plant_defects(rows: list[list[Any]], rng: np.random.Generator, rate: float) -> None:
    """Typical clerk mistakes, each in about ``rate`` of the rows."""
    n = len(rows)
    for k, i in enumerate(np.flatnonzero(rng.random(n) < rate)):
        kind = k % 6  # every kind of mistake shows up, in turn
        row = rows[i]
        if kind == 0:
            row[14] = None  # no responsible unit
        elif kind == 1:
            row[2] = "2026.13.05"  # impossible date
        elif kind == 2:
            row[5] = float(row[5][:17] + "0") if row[5][-1] != "X" else row[5][:17]  # ID typed as a number
        elif kind == 3:
            row[6] = str(row[6])[:9]  # phone too short
        elif kind == 4 and i > 0:
            row[1] = rows[i - 1][1]  # duplicate case id
        elif kind == 5 and row[22] is not None:
            row[22] = row[2] - dt.timedelta(days=3)  # closed before received


def unit_rows(n: int, seed: int, unit: str, prefix: str) -> list[list]:
    """``n`` sample rows all of one 责任单位 ``unit`` (case ids ``{prefix}2026-00001``...)."""
    data = sample_rows(n, seed=seed, units=[unit], prefix=prefix)
    column = LABELS_STANDARD.index("责任单位")
    for r in data:
        r[column] = unit
    return data


def write_sample_ledger(path: str | Path, rows: int = 1000, *, seed: int = 0, unit: str | None = None,
                        header_variant: int = 0, title: bool = True, defects: float = 0.0,
                        data: list[list[Any]] | None = None, **kwargs: Any) -> Path:
    """Write a ledger workbook as a bureau keeps it (xlsxwriter, constant memory).

    header_variant: 0 standard labels, 1 other units' labels, 2 a merged two-row header
    (信访人 over 姓名 / 身份证号码 / 联系电话).
    """
    import xlsxwriter

    path = Path(path)
    units = [unit] if unit else kwargs.pop("units", None)
    cells = data if data is not None else sample_rows(rows, seed=seed, units=units, defects=defects, **kwargs)
    labels = LABELS_SYNONYMS if header_variant == 1 else LABELS_STANDARD
    with atomic_path(path, guard=False) as tmp:  # a sample is a ledger-to-be, not an output: no stamp, no gate
        # constant_memory flushes a row as soon as a later row is written, which would
        # lose the second half of a merged two-row header: use it for the flat layouts only.
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": header_variant != 2})
        ws = wb.add_worksheet("信访台账")
        head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                              "text_wrap": True, "bg_color": "#DDEBF7", "font_name": "宋体"})
        title_fmt = wb.add_format({"bold": True, "font_size": 16, "align": "center", "font_name": "宋体"})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        text_fmt = wb.add_format({"num_format": "@"})
        r = 0
        if title:
            ws.merge_range(0, 0, 0, len(labels) - 1, f"{unit or 'XX县'}信访事项登记台账", title_fmt)
            ws.write(1, 0, f"填报单位：{unit or 'XX县信访局'}    填报日期：2026年11月25日")
            r = 2
        if header_variant == 2:
            for c, label in enumerate(labels):
                if c in (4, 5, 6):
                    continue
                ws.merge_range(r, c, r + 1, c, label, head)
            ws.merge_range(r, 4, r, 6, "信访人", head)
            for c, label in zip((4, 5, 6), ("姓名", "身份证号码", "联系电话")):
                ws.write(r + 1, c, label, head)
            r += 2
        else:
            ws.write_row(r, 0, labels, head)
            r += 1
        ws.freeze_panes(r, 0)
        for row in cells:
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_fmt)
                elif c in (5, 6) and isinstance(value, str):
                    ws.write_string(r, c, value, text_fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value)
                else:
                    ws.write_number(r, c, value)
            r += 1
        ws.set_column(0, 0, 6)
        ws.set_column(1, 3, 12)
        ws.set_column(12, 12, 40)
        wb.close()
    return path


def write_sample_set(folder: str | Path, *, seed: int = 2026) -> list[Path]:
    """The bundled sample set: a county ledger and three units' ledgers in their own layouts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_sample_ledger(folder / "县信访局台账.xlsx", 240, seed=seed, defects=0.03)]
    for k, (unit, variant) in enumerate([("县人社局", 1), ("城关镇", 2), ("县住建局", 0)]):
        written.append(write_sample_ledger(folder / f"{unit}台账.xlsx", 60, seed=seed + k + 1, unit=unit,
                                           header_variant=variant, prefix=f"U{k + 1}-"))
    return written


if __name__ == "__main__":  # pragma: no cover
    import sys

    for p in write_sample_set(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "samples"):
        print(p)
