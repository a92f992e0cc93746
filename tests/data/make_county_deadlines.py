"""Build tests/data/county_deadlines/: county ledgers for issue 21 items 3-6 and 17 and the policy
bounds of issue 20 item 13, written the way counties keep them (a title row, a header row with the
county's own labels 姓名/承办单位/限办日期/办理进度/办结时间, dates typed as dates shown 2026年3月2日).

unknown_year_ledger_due.xlsx   办理 stages whose 60日 run into 2027 (no official schedule yet):
                               K1 限办日期 2027-03-31, later than any possible legal end -> cannot tell;
                               K2 限办日期 2027-01-20, earlier than the nominal end 2027-02-08 -> binds.
ended_statuses.xlsx            one matter per status that ends the duty (不予受理, 不再受理, 终结, 撤回,
                               已转送（出本单位）), every one accepted long ago (would be 严重超期), plus
                               E6 an ordinary 办理中 matter that is overdue.
as_of_past.xlsx                judged on 2026-05-31: P1 closed 2026-06-10 (open and overdue on 05-31);
                               P2 复查申请 2026-06-15 (not yet made: still the closed 办理 stage);
                               P3 受理 2026-06-02 (not yet accepted: the 登记交办 stage);
                               P4 closed 2026-04-30 (closed on time);
                               P5 registered 2026-06-05 (not a matter yet on 05-31);
                               P6 撤回, 交办 2026-05-20 but 受理 2026-06-03: on 05-31 the 撤回 (written after
                               the later 受理) did not hold yet: the 受理告知 stage, due 06-04.
workday_stage.xlsx             W1 受理 2026-09-03 under a local 20-工作日 rule: due 2026-10-08; on
                               2026-09-30 eight calendar days but one working day are left (国庆节).
local_policy.toml              [stages.handle] 20 个工作日 with the county's own article text.
local_policy_no_article.toml   [stages.handle] days = 45 and nothing else (the 条例's article no longer applies).
policy_days_6000.toml          days = 6000 (issue 20 item 13).
policy_days_huge.toml          days = 2^63-1.
policy_extension_huge.toml     max_extension = 100000.
policy_warn_huge.toml          [thresholds] warn_days = 100000.
Run: python tests/data/make_county_deadlines.py
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

OUT = Path(__file__).resolve().parent / "county_deadlines"
D = dt.datetime
HEADER = ["序号", "信访件编号", "登记日期", "姓名", "承办单位", "反映问题", "交办日期", "受理日期", "限办日期", "办理进度", "办结时间",
          "复查申请日期"]


def county_ledger(path: Path, title: str, rows: list[list]) -> None:
    """A title row merged across the table, the header in row 2, one matter a row (序号 first; each row
    lists 编号, 登记日期, 姓名, 承办单位, then the dates and 办理进度: 反映问题 is filled in here)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2026年"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(HEADER)
    for k, row in enumerate(rows, 1):
        row = [*row[:4], f"反映{row[3]}的问题", *row[4:]]
        ws.append([k, *row, *[None] * (len(HEADER) - 1 - len(row))])
    for cells in ws.iter_rows(min_row=3):
        for cell in cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = 'yyyy"年"m"月"d"日"'
    wb.save(path)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    county_ledger(OUT / "unknown_year_ledger_due.xlsx", "某县信访事项办理台账", [
        ["K1", D(2026, 12, 1), "张某", "县住建局", D(2026, 12, 3), D(2026, 12, 10), D(2027, 3, 31), "办理中"],
        ["K2", D(2026, 12, 1), "李某", "县人社局", D(2026, 12, 3), D(2026, 12, 10), D(2027, 1, 20), "办理中"],
    ])
    county_ledger(OUT / "ended_statuses.xlsx", "某县信访事项办理台账", [
        ["E1", D(2026, 1, 5), "赵某", "县住建局", None, None, None, "不予受理"],
        ["E2", D(2026, 1, 6), "钱某", "县人社局", D(2026, 1, 7), D(2026, 1, 8), None, "不再受理"],
        ["E3", D(2026, 1, 7), "孙某", "城关镇", D(2026, 1, 8), D(2026, 1, 9), None, "终结"],
        ["E4", D(2026, 1, 8), "周某", "县教育局", D(2026, 1, 9), D(2026, 1, 12), None, "撤回"],
        ["E5", D(2026, 1, 9), "吴某", "县自然资源局", D(2026, 1, 12), None, None, "已转送（出本单位）"],
        ["E6", D(2026, 1, 9), "郑某", "县住建局", D(2026, 1, 12), D(2026, 1, 13), None, "办理中"],
    ])
    county_ledger(OUT / "as_of_past.xlsx", "某县信访事项办理台账", [
        ["P1", D(2026, 2, 20), "王某", "县住建局", D(2026, 2, 25), D(2026, 3, 2), None, "已办结", D(2026, 6, 10)],
        ["P2", D(2026, 1, 5), "冯某", "县人社局", D(2026, 1, 6), D(2026, 1, 7), None, "复查中", D(2026, 3, 1),
         D(2026, 6, 15)],
        ["P3", D(2026, 5, 25), "陈某", "城关镇", D(2026, 5, 26), D(2026, 6, 2), None, "已受理"],
        ["P4", D(2026, 3, 2), "褚某", "县教育局", D(2026, 3, 3), D(2026, 3, 4), None, "已办结", D(2026, 4, 30)],
        ["P5", D(2026, 6, 5), "蒋某", "县人社局", D(2026, 6, 5), D(2026, 6, 6), None, "办理中"],
        ["P6", D(2026, 5, 18), "沈某", "城关镇", D(2026, 5, 20), D(2026, 6, 3), None, "撤回"],
    ])
    county_ledger(OUT / "workday_stage.xlsx", "某县信访事项办理台账", [
        ["W1", D(2026, 8, 28), "卫某", "县住建局", D(2026, 9, 2), D(2026, 9, 3), None, "办理中"],
    ])
    (OUT / "local_policy.toml").write_text(
        '# 某县规定：办理期限 20 个工作日\n[stages.handle]\ndays = 20\ncounting = "工作日"\n'
        'article = "《某县信访事项办理规定》第八条"\n', encoding="utf-8")
    (OUT / "local_policy_no_article.toml").write_text("[stages.handle]\ndays = 45\n", encoding="utf-8")
    (OUT / "policy_days_6000.toml").write_text("[stages.handle]\ndays = 6000\n", encoding="utf-8")
    (OUT / "policy_days_huge.toml").write_text(f"[stages.handle]\ndays = {2**63 - 1}\n", encoding="utf-8")
    (OUT / "policy_extension_huge.toml").write_text("[stages.handle]\nmax_extension = 100000\n", encoding="utf-8")
    (OUT / "policy_warn_huge.toml").write_text("[thresholds]\nwarn_days = 100000\n", encoding="utf-8")


if __name__ == "__main__":
    main()
