"""One policy, defined once as data: the same open / overdue / closed figures everywhere, and a
stage added only in a user's TOML (简易办理, 10 工作日) working in every command."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner

from xfsheets.cli import main
from xfsheets.deadlines import deadline_report
from xfsheets.errors import ConfigError
from xfsheets.policy import load_policy
from xfsheets.reader import read_ledger
from xfsheets.slips import generate_slips
from xfsheets.summary import compute_summary
from xfsheets.zero_report import build_zero_reports

D = dt.date
HEADER = ["信访件编号", "登记日期", "信访人", "联系电话", "人数", "反映问题", "责任单位", "办理状态", "交办日期",
          "受理日期", "办结日期", "办理结果", "复查申请日期", "复查意见日期"]
ROWS = [  # as of 2026-07-20
    # open, severely overdue: handle stage due 2026-05-06
    ["A1", D(2026, 3, 1), "张某", "13800000001", 5, "拖欠工资", "县人社局", "办理中", None, D(2026, 3, 2), None, None, None, None],
    # open, on track: due 2026-08-31
    ["A2", D(2026, 7, 1), "李某", "13800000002", 5, "道路破损", "县交通局", "办理中", None, D(2026, 7, 2), None, None, None, None],
    # closed on time
    ["A3", D(2026, 3, 1), "王某", "13800000003", 5, "噪音扰民", "县环保局", "已办结", None, D(2026, 3, 2), D(2026, 4, 20),
     "已答复", None, None],
    # 已办结, but a 复查 requested 05-01 and no opinion yet: open, overdue (review due 06-01)
    ["A4", D(2026, 1, 5), "赵某", "13800000004", 5, "征地补偿", "县自然资源局", "已办结", None, D(2026, 1, 6),
     D(2026, 2, 10), "已答复", D(2026, 5, 1), None],
    # 简易办理: 10 工作日 from 07-02 is 07-16 (overdue on 07-20); the built-in policy gives 60日 (on track)
    ["A5", D(2026, 7, 1), "孙某", "13800000005", 5, "路灯不亮", "县住建局", "简易办理中", None, D(2026, 7, 2), None, None,
     None, None],
    # closed by status (不予受理), no 办结日期
    ["A6", D(2026, 6, 1), "周某", "13800000006", 5, "其他诉求", "县信访局", "不予受理", None, None, None, "不予受理告知",
     None, None],
]
AS_OF = D(2026, 7, 20)
SIMPLE = """# 本县：简易办理 10 个工作日
[stages.simple]
label = "简易办理"
start = "accepted_on"
days = 10
counting = "工作日"
order = 35
statuses = ["简易办理中"]
only_with_status = true
ledger_due_binds = true
closed_status_ends = true
article = "本县信访事项简易办理规定"
"""


@pytest.fixture
def files(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(HEADER + ["信访性质", "风险等级"])  # the columns a 零报告 needs to attest anything
    for row in ROWS:
        ws.append(row + ["初信初访", "低"])
    ledger = tmp_path / "台账.xlsx"
    wb.save(ledger)
    policy = tmp_path / "本县规则.toml"
    policy.write_text(SIMPLE, encoding="utf-8")
    return ledger, policy


@pytest.mark.parametrize("with_simple, expected", [
    (False, {"open": 4, "overdue": 2, "closed": 2}),  # A5 in the 60日 handle stage, on track
    (True, {"open": 4, "overdue": 3, "closed": 2}),  # A5 past its 10 工作日
])
def test_open_overdue_closed_agree_everywhere(files, tmp_path, with_simple, expected):
    path, policy_file = files
    policy = load_policy(policy_file if with_simple else None)
    ledger = read_ledger(path)
    found = deadline_report(ledger, as_of=AS_OF, policy=policy)
    assert found.figures() == expected
    by_id = dict(zip(ledger.frame["case_id"], found.result.to_dict("records")))
    assert by_id["A4"]["stage"] == "review" and not by_id["A4"]["closed"]  # a pending 复查 keeps it open

    s = compute_summary(ledger, as_of=AS_OF, policy=policy)
    assert {"open": s.totals["open"], "overdue": s.totals["overdue"], "closed": s.totals["closed_all"]} == expected
    assert s.to_dict()["totals"]["overdue"] == expected["overdue"]

    assign = generate_slips(ledger, tmp_path / "交办单", as_of=AS_OF, policy=policy)
    supervise = generate_slips(ledger, tmp_path / "督办单", as_of=AS_OF, policy=policy, overdue_only=True)
    assert (assign.slips, supervise.slips) == (expected["open"], expected["overdue"])
    assert not assign.skipped and not supervise.skipped

    reports = build_zero_reports(ledger, tmp_path / "零报告", as_of=AS_OF, date_from=D(2026, 1, 1), date_to=AS_OF,
                                 policy=policy)
    totals = {k: sum(r.to_dict()["figures"][k] for r in reports) for k in expected}
    assert totals == expected  # every matter here is a 集体访 (5 people), so every one is listed


def test_a_stage_added_in_the_users_toml_works_in_every_command(files, tmp_path):
    ledger, policy = files
    run = lambda *args: CliRunner().invoke(main, [str(a) for a in args])

    r = run("deadlines", ledger, "--as-of", AS_OF, "--policy", policy, "--json")
    assert r.exit_code == 0, r.output
    a5 = next(c for c in json.loads(r.stdout)["cases"] if c["case_id"] == "A5")
    assert (a5["stage"], a5["stage_label"], a5["limit"], a5["due_on"], a5["flag"]) == \
        ("simple", "简易办理", "10个工作日", "2026-07-16", "overdue")
    assert "本县信访事项简易办理规定" in a5["explain"]
    # --rules is the old name of --policy
    r = run("deadlines", ledger, "--as-of", AS_OF, "--rules", policy, "--json")
    assert next(c for c in json.loads(r.stdout)["cases"] if c["case_id"] == "A5")["stage"] == "simple"

    r = run("report", ledger, "--as-of", AS_OF, "--policy", policy, "-o", tmp_path / "月报.xlsx", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["totals"]["overdue"] == 3
    r = run("report", ledger, "--as-of", AS_OF, "-o", tmp_path / "月报2.xlsx", "--json")
    assert json.loads(r.stdout)["totals"]["overdue"] == 2

    r = run("slips", ledger, "--as-of", AS_OF, "--policy", policy, "--overdue-only", "-o", tmp_path / "督办", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["slips"] == 3
    book = openpyxl.load_workbook(tmp_path / "督办" / "督办单_县住建局.xlsx")
    assert book["清单"]["I3"].value == "简易办理"

    r = run("report", ledger, "--as-of", AS_OF, "--policy", policy, "--zero", "--from", "2026-07-01", "--to", AS_OF,
            "-o", tmp_path / "零报告", "--json")
    assert r.exit_code == 0, r.output  # the fixture has the 信访性质/风险等级 columns a 零报告 needs
    reports = {d["unit"]: d for d in json.loads(r.stdout)["reports"]}
    assert reports["县住建局"]["figures"] == {"open": 1, "overdue": 1, "closed": 0}

    # check: the stage's status is a word of the ledger, not an unknown value
    statuses = lambda out: [f for f in json.loads(out)["findings"] if f["code"] == "unknown_value"]
    assert statuses(run("check", ledger, "--json").stdout)
    assert not statuses(run("check", ledger, "--policy", policy, "--json").stdout)


def test_thresholds_and_extension_cap_come_from_the_policy(tmp_path):
    policy_file = tmp_path / "p.toml"
    policy_file.write_text("[stages.handle]\nmax_extension = 15\n[thresholds]\nsevere_days = 10\n"
                           "collective_headcount = 3\n", encoding="utf-8")
    policy = load_policy(policy_file)
    assert policy["handle"].days == 60 and policy["handle"].max_extension == 15  # the rest is the built-in one
    assert policy.thresholds.warn_days == 5 and policy.thresholds.severe_days == 10
    from test_deadlines import frame
    from xfsheets.deadlines import compute_deadlines

    r = compute_deadlines(frame({"received_on": "2026-01-01", "accepted_on": "2026-03-02", "extension_days": 30}),
                          as_of=D(2026, 5, 20), policy=policy).iloc[0]
    assert "延期超过15日上限，按15日计" in r["explain"] and "30日" not in r["explain"].split("时限")[-1]
    assert r["due_on"].date() == D(2026, 5, 18)  # 60 + 15 = 05-16 (Saturday) -> 05-18
    # the command line's choice wins over the file's
    assert load_policy(policy_file).with_options(severe_days=40).thresholds.severe_days == 40


def test_policy_mistakes_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[stages.simple]\nlabel = "简易办理"\ndays = 10\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy(bad)
    assert "缺少 start" in str(err.value)
    bad.write_text('[stages.handle]\ncounting = "周"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy(bad)
    assert "counting" in str(err.value) and "工作日" in str(err.value)
    bad.write_text('[stages.handle]\nstart = "accepted"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy(bad)
    assert "accepted_on（受理日期）" in str(err.value)


def test_buttons_use_the_policy_recorded_at_install(files, monkeypatch, tmp_path):
    """The policy this PC's ``excel addin install --policy`` recorded; a book's own xlwings.conf sheet is no setting."""
    import xlwings as xw

    import xfsheets.excel as x
    from test_excel import payload
    from xfsheets import addin

    ledger, policy = files
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(x.dt, "date", type("FrozenDate", (dt.date,), {"today": classmethod(lambda cls: AS_OF)}))
    flags = {}
    for on_this_pc in (False, True):
        monkeypatch.setattr(addin, "pc_settings", lambda on=on_this_pc: {"XFSHEETS_POLICY": str(policy)} if on else {})
        book = xw.Book(json=payload(ledger, [] if on_this_pc else [("xlwings.conf", [["XFSHEETS_POLICY", str(policy)]])]))
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls, book=book: book))
        x.compute_deadlines()
        writes = [a for a in book.json()["actions"] if a["func"] == "setValues"]
        header = {a["start_column"]: a["values"][0][0] for a in writes if a["start_row"] == 0}
        col = next(c for c, v in header.items() if v == "当前阶段")
        stages = next(a for a in writes if a["start_column"] == col and a["start_row"] == 1)["values"]
        flags[on_this_pc] = [r[0] for r in stages]
    assert flags[False][4] == "办理" and flags[True][4] == "简易办理"


def test_slip_without_a_ledger_assigning_unit_names_the_issuing_unit(files, tmp_path):
    path, _ = files  # this ledger has no 交办单位 column
    result = generate_slips(read_ledger(path), tmp_path / "s", as_of=AS_OF, cases=["A2"], issuing_unit="某县信访局")
    ws = openpyxl.load_workbook(result.files[0]).worksheets[1]
    assert ws["A15"].value == "某县信访局" and ws["A16"].value == "2026年7月20日"  # no 交办日期: dated as of
    assert ws["B3"].value == "某县信访局"


def test_the_policy_names_its_holiday_file_and_estimate_mode(tmp_path):
    import shutil

    from conftest import DATA

    shutil.copy(DATA / "deadlines" / "holidays_2027.xlsx", tmp_path / "2027节假日.xlsx")
    ledger = DATA / "deadlines" / "title_rows.xlsx"
    cases = lambda text: {c["case_id"]: c for c in json.loads(CliRunner().invoke(main, [
        "deadlines", str(ledger), "--as-of", "2026-12-25", "--policy", str(write(text)), "--json"]).stdout)["cases"]}

    def write(text):
        path = tmp_path / "p.toml"
        path.write_text(text, encoding="utf-8")
        return path

    # a path relative to the policy file's folder, as --holidays would give it
    t4 = cases('[calendar]\nholidays = "2027节假日.xlsx"\n')["T4"]
    assert t4["due_on"] == "2027-01-05" and "元旦补休" in t4["explain"]
    t4 = cases("[calendar]\nassume_weekends = true\n")["T4"]
    assert t4["due_on"] == "2027-01-04" and t4["estimated"]


def test_deadlines_says_which_date_binds(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态", "受理日期", "办理时限", "延期天数"])
    ws.append(["B1", D(2026, 2, 20), "张某", "欠薪", "县人社局", "办理中", D(2026, 3, 2), D(2026, 6, 30), None])
    ws.append(["B2", D(2026, 1, 1), "李某", "噪音", "县环保局", "延期办理", D(2026, 3, 2), D(2026, 5, 6), 30])
    ws.append(["B3", D(2026, 1, 1), "王某", "路灯", "县住建局", "办理中", D(2026, 3, 2), D(2026, 4, 30), None])
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    r = CliRunner().invoke(main, ["deadlines", str(path), "--as-of", "2026-05-20", "--json"])
    cases = {c["case_id"]: c for c in json.loads(r.stdout)["cases"]}
    # a later 办理时限 cannot lengthen the legal period: the legal date binds, and it is said
    assert (cases["B1"]["due_on"], cases["B1"]["legal_due_on"], cases["B1"]["due_source"]) == \
        ("2026-05-06", "2026-05-06", "legal")
    assert cases["B1"]["due_beyond_legal_limit"] and cases["B1"]["flag"] == "overdue"
    # an approved extension the 办理时限 does not carry: the extended date, with the reason
    assert cases["B2"]["due_on"] == "2026-06-01" and cases["B2"]["extension_not_in_ledger_due"]
    assert "仍是延期前的2026年5月6日" in cases["B2"]["explain"] and cases["B2"]["flag"] == "on_track"
    # an earlier 办理时限 binds
    assert (cases["B3"]["due_on"], cases["B3"]["due_source"]) == ("2026-04-30", "ledger")
    assert "早于法定期满日，以办理时限为准" in cases["B3"]["explain"]
    assert "1 件台账“办理时限”晚于法定期满日" in r.stderr and "1 件已批准延期" in r.stderr


def test_check_caps_extensions_by_the_policy(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态", "受理日期", "延期天数"])
    ws.append(["C1", D(2026, 1, 1), "张某", "欠薪", "县人社局", "延期办理", D(2026, 3, 2), 20])
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    capped = tmp_path / "p.toml"
    capped.write_text("[stages.handle]\nmax_extension = 15\n", encoding="utf-8")
    found = lambda *extra: [f for f in json.loads(CliRunner().invoke(
        main, ["check", str(path), "--json", *map(str, extra)]).stdout)["findings"] if f["code"] == "extension_too_long"]
    assert not found()  # 20 days is within the regulation's 30
    (f,) = found("--policy", capped)
    assert f["column"] == "H" and "最长 15 日" in f["message"]
