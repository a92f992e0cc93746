"""Issue 21 items 3, 4, 5, 6, 17 and issue 20 item 13 (policy half): deadlines say exactly what the
ledger says. Fixtures: tests/data/county_deadlines/ (built by tests/data/make_county_deadlines.py, the
way counties keep ledgers: title row, 姓名/承办单位/限办日期/办理进度/办结时间, dates shown 2026年3月2日)."""
from __future__ import annotations

import datetime as dt
import json
import re

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main
from xfsheets.deadlines import compute_deadlines, ledger_as_of
from xfsheets.policy import load_policy
from xfsheets.reader import read_ledger
from xfsheets.slips import generate_slips

C = DATA / "county_deadlines"
D = dt.date
ISO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def cases(*args: str) -> dict:
    r = run("deadlines", *args, "--json")
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    return {c["case_id"]: c for c in doc["cases"]} | {"_doc": doc, "_stderr": r.stderr}


def reads_aloud(text: str) -> None:
    """One or two sentences a clerk reads aloud: no ISO date, no option or command line."""
    assert not ISO.search(text), text
    assert "--" not in text and "xfsheets" not in text and "calendar import" not in text, text
    assert 1 <= text.count("。") <= 2 and text.endswith("。"), text


# --- item 3: a later 办理时限 does not bind when the legal end cannot be computed ------------------

def test_later_ledger_due_in_an_unknown_year_is_cannot_tell():
    got = cases(C / "unknown_year_ledger_due.xlsx", "--as-of", "2026-12-15")
    k1, k2 = got["K1"], got["K2"]
    # before: K1 due 2027-03-31 (the 限办日期), on_track, 106 days left
    assert (k1["flag"], k1["due_on"], k1["days_left"], k1["due_source"]) == ("unknown", None, None, None)
    assert k1["explain"] == ("无法判断：2027年放假安排尚未收录，算不出法定期满日；台账办理时限2027年3月31日可能晚于法定期满日"
                             "（最早为2027年2月8日），交办单指定的期限不能延长法定期限，不能以它为准。")
    # an earlier 限办日期 than any possible legal end still binds, and says why
    assert (k2["flag"], k2["due_on"], k2["due_source"], k2["days_left"]) == ("on_track", "2027-01-20", "ledger", 36)
    assert "台账办理时限2027年1月20日不晚于法定期满日（最早为2027年2月8日），以办理时限为准" in k2["explain"]


# --- item 4: statuses that end the duty ------------------------------------------------------------

ENDED = {"E1": "不予受理", "E2": "不再受理", "E3": "终结", "E4": "撤回", "E5": "已转送（出本单位）"}


def test_statuses_that_end_the_duty_get_no_deadline_no_overdue_no_slip(tmp_path):
    got = cases(C / "ended_statuses.xlsx", "--as-of", "2026-06-30")
    for case_id, word in ENDED.items():
        c = got[case_id]
        assert (c["flag"], c["flag_label"], c["due_on"], c["legal_due_on"], c["days_left"]) == \
            ("ended", "不计时限", None, None, None), c
        assert c["ended"] and c["closed"] and c["ended_status"] == word
        assert c["explain"].startswith(f"办理状态为“{word}”：")
        reads_aloud(c["explain"])
    assert "第三十六条第三款" in got["E2"]["explain"]
    assert got["E6"]["flag"] == "severely_overdue" and not got["E6"]["ended"]
    assert got["_doc"]["figures"] == {"open": 1, "overdue": 1, "closed": 5}

    ledger = read_ledger(C / "ended_statuses.xlsx")
    supervise = generate_slips(ledger, tmp_path / "督办单", as_of=D(2026, 6, 30), overdue_only=True)
    assign = generate_slips(ledger, tmp_path / "交办单", as_of=D(2026, 6, 30))
    assert (supervise.slips, assign.slips) == (1, 1)  # E6 only
    names = {ws.title for f in (tmp_path / "督办单").glob("*.xlsx") for ws in openpyxl.load_workbook(f).worksheets}
    assert "E6" in names and not names & set(ENDED)


def test_ended_statuses_are_policy_data_and_words_of_the_ledger(tmp_path):
    policy = load_policy()
    assert set(ENDED.values()) <= set(policy.ended) and set(policy.ended) <= set(policy.known_statuses)
    assert not set(policy.ended) & policy.closed_statuses
    # check's vocabulary is the policy's: none of these statuses is an unknown word
    r = run("check", C / "ended_statuses.xlsx", "--json")
    assert not [f for f in json.loads(r.stdout)["findings"] if f["code"] == "unknown_value" and f["field"] == "status"]
    # the office's own policy adds one; half-width brackets are the same word
    own = tmp_path / "本县.toml"
    own.write_text('[statuses.ended]\n"办理中" = "测试：本县把办理中当作结束"\n', encoding="utf-8")
    got = cases(C / "ended_statuses.xlsx", "--as-of", "2026-06-30", "--policy", own)
    assert got["E6"]["flag"] == "ended" and got["E6"]["explain"] == "办理状态为“办理中”：测试：本县把办理中当作结束。"
    import pandas as pd

    f = pd.DataFrame({"status": ["已转送(出本单位)", "已转送 （出本单位）", "已转送"]})
    assert policy.ended_mask(f).tolist() == [True, True, False]


# --- item 5: --as-of in the past is a point in time ------------------------------------------------

def test_as_of_in_the_past_sees_only_what_had_happened():
    got = cases(C / "as_of_past.xlsx", "--as-of", "2026-05-31")
    # P1 closed 06-10: open on 05-31 and overdue (before: closed_late)
    assert (got["P1"]["flag"], got["P1"]["closed"], got["P1"]["days_left"]) == ("overdue", False, -25)
    # P2 复查申请 06-15 not yet made: still the 办理 stage, closed on time 03-01 (before: review, on_track)
    assert (got["P2"]["stage"], got["P2"]["flag"]) == ("handle", "closed_on_time")
    # P3 受理 06-02 not yet: 交办 05-26 + 15日 (before: handle stage due 08-03)
    assert (got["P3"]["stage"], got["P3"]["due_on"], got["P3"]["flag"]) == ("accept", "2026-06-10", "on_track")
    assert (got["P4"]["flag"], got["P4"]["closed"]) == ("closed_on_time", True)
    # P5 registered 06-05: not a matter on 05-31, said so, and counted neither open nor closed
    assert got["P5"]["flag"] == "unknown" and got["P5"]["explain"] == \
        "无法判断：登记日期为2026年6月5日，在2026年5月31日之后，截至2026年5月31日尚未登记。"
    # P6 撤回 was written after its 06-03 受理: on 05-31 it did not hold; 交办 05-20 + 15日 = 06-04 (before: handle)
    assert (got["P6"]["stage"], got["P6"]["due_on"], got["P6"]["flag"], got["P6"]["ended"]) == \
        ("accept", "2026-06-04", "due_soon", False)
    assert got["_doc"]["figures"] == {"open": 3, "overdue": 1, "closed": 2}
    later = cases(C / "as_of_past.xlsx", "--as-of", "2026-07-01")
    assert later["P1"]["flag"] == "closed_late" and later["P2"]["stage"] == "review"
    assert later["P5"]["flag"] == "on_track" and later["P6"]["flag"] == "ended"


def test_one_function_gives_the_ledger_as_it_stood(tmp_path):
    ledger = read_ledger(C / "as_of_past.xlsx")
    before = ledger.frame.copy()
    then = ledger_as_of(ledger, D(2026, 5, 31))
    f = then.frame.set_index("case_id")
    assert f["closed_on"].isna()["P1"] and f.at["P1", "status"] is None
    assert f["review_requested_on"].isna().all() and f.at["P2", "status"] is None
    assert f["accepted_on"].isna()["P3"] and f.at["P3", "status"] is None
    assert f.at["P4", "status"] == "已办结" and f.at["P4", "closed_on"] == pd_ts("2026-04-30")
    assert len(then.frame) == len(ledger.frame) and then.frame["_row"].tolist() == ledger.frame["_row"].tolist()
    assert then.raw["closed_on"].isna().tolist()[0] and ledger.frame.equals(before)  # the source is untouched
    again = ledger_as_of(then, D(2026, 5, 31))
    assert again.frame.equals(then.frame)
    assert ledger_as_of(ledger, D(2026, 12, 31)) is ledger  # nothing later: the same ledger
    # the slips judge it too: on 05-31 P1 gets a 督办单
    assert generate_slips(ledger, tmp_path / "督办单", as_of=D(2026, 5, 31), overdue_only=True).slips == 1


def pd_ts(text):
    import pandas as pd

    return pd.Timestamp(text)


# --- item 6: 临期 in working days for a working-day stage --------------------------------------------

def test_due_soon_counts_working_days_in_a_working_day_stage():
    got = cases(C / "workday_stage.xlsx", "--as-of", "2026-09-30", "--policy", C / "local_policy.toml")
    w1 = got["W1"]
    # before: on_track (8 calendar days > 5), "剩余 8 天"
    assert (w1["due_on"], w1["days_left"], w1["working_days_left"], w1["flag"]) == ("2026-10-08", 8, 1, "due_soon")
    assert w1["explain"] == ("办理阶段自受理日期2026年9月3日起算，依《某县信访事项办理规定》第八条，时限20个工作日，"
                             "第20个工作日是2026年10月8日。截至2026年9月30日剩余 8 天，其中工作日 1 天。")
    # a calendar-day stage keeps counting calendar days and says one figure
    plain = cases(C / "workday_stage.xlsx", "--as-of", "2026-09-30")["W1"]
    assert plain["flag"] == "on_track" and "其中工作日" not in plain["explain"]


# --- item 17: words a clerk reads aloud -----------------------------------------------------------

def test_explanations_read_aloud_and_the_remedy_is_said_once(tmp_path):
    got = cases(C / "unknown_year_ledger_due.xlsx", "--as-of", "2026-12-15")
    for c in ("K1", "K2"):
        reads_aloud(got[c]["explain"])
    (note,) = got["_doc"]["notes"]
    assert note.startswith("有 2 件事项的期满日落在2027年") and "calendar import" in note and "--assume-weekends" in note
    assert got["_stderr"].count("calendar import") == 1
    for name, as_of in (("as_of_past", "2026-05-31"), ("ended_statuses", "2026-06-30")):
        for k, c in cases(C / f"{name}.xlsx", "--as-of", as_of).items():
            if not k.startswith("_"):
                reads_aloud(c["explain"])
    # the annotated copy's 时限说明 column holds the same words
    out = tmp_path / "带时限.xlsx"
    assert run("deadlines", C / "as_of_past.xlsx", "--as-of", "2026-05-31", "-o", out).exit_code in (0, 1)
    ws = openpyxl.load_workbook(out).worksheets[0]
    col = next(c.column for c in ws[2] if c.value == "时限说明")
    texts = [ws.cell(r, col).value for r in range(3, ws.max_row + 1)]
    assert len(texts) == 6 and all(texts)
    for t in texts:
        reads_aloud(t)


def test_a_local_policy_is_cited_not_the_regulation():
    got = cases(C / "workday_stage.xlsx", "--as-of", "2026-09-30", "--policy", C / "local_policy_no_article.toml")
    text = got["W1"]["explain"]
    assert "依本单位规定，时限45日" in text and "条例" not in text and "第三十四条" not in text
    assert "依《某县信访事项办理规定》第八条" in cases(C / "workday_stage.xlsx", "--as-of", "2026-09-30", "--policy",
                                                  C / "local_policy.toml")["W1"]["explain"]
    assert load_policy()["handle"].cites == "《信访工作条例》第三十四条"


def test_supervision_slip_reason_reads_aloud(tmp_path):
    ledger = read_ledger(C / "as_of_past.xlsx")
    result = generate_slips(ledger, tmp_path / "督办单", as_of=D(2026, 5, 31), overdue_only=True)
    assert result.slips == 1
    (book,) = list((tmp_path / "督办单").glob("*.xlsx"))
    ws = openpyxl.load_workbook(book)["P1"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "督办事由")
    text = ws.cell(row, 2).value
    assert text == ("超期未办结。办理阶段自受理日期2026年3月2日起算，依《信访工作条例》第三十四条，时限60日，"
                    "期满日2026年5月1日逢劳动节放假，顺延至2026年5月6日。截至2026年5月31日已超期 25 天。")
    assert not ISO.search(text) and "--" not in text


# --- issue 20 item 13: every number in a policy is bounded, with a reason ----------------------------

@pytest.mark.parametrize("name,key,bounds", [
    ("policy_days_6000", "阶段 [stages.handle] 的 days = 6000", "1 到 365"),
    ("policy_days_huge", "阶段 [stages.handle] 的 days = 922337……（19 位数）", "1 到 365"),
    ("policy_extension_huge", "阶段 [stages.handle] 的 max_extension = 100000", "0 到 365"),
    ("policy_warn_huge", "[thresholds] 的 warn_days = 100000", "0 到 60"),
])
def test_out_of_range_policy_numbers_are_refused_with_file_key_and_range(name, key, bounds):
    path = C / f"{name}.toml"
    r = run("deadlines", C / "workday_stage.xlsx", "--as-of", "2026-09-30", "--policy", path, "--json")
    assert r.exit_code == 2 and "Traceback" not in r.output
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "config_invalid" and error["file"] == str(path)  # before: internal_error
    assert f"{key} 超出允许范围 {bounds}：" in error["message"] and name in error["message"]


def test_a_policy_at_its_bounds_still_works(tmp_path):
    path = tmp_path / "最长.toml"
    path.write_text("[stages.handle]\ndays = 335\nmax_extension = 30\n[thresholds]\nwarn_days = 60\n", encoding="utf-8")
    got = cases(C / "workday_stage.xlsx", "--as-of", "2026-09-30", "--policy", path)
    assert got["W1"]["flag"] in ("on_track", "unknown") and got["W1"]["limit"] == "335日"
    path.write_text("[stages.handle]\ndays = 340\nmax_extension = 30\n", encoding="utf-8")
    r = run("deadlines", C / "workday_stage.xlsx", "--policy", path, "--json")
    assert r.exit_code == 2 and "days + max_extension = 370 超出允许范围 1 到 365" in json.loads(r.stdout)["error"]["message"]


def test_the_drop_down_offers_the_policys_statuses(tmp_path):
    """The status vocabulary is policy data: the 办理状态 drop-down of ``excel install`` lists the statuses
    that end the duty, as check accepts them."""
    import shutil

    src = tmp_path / "台账.xlsx"
    shutil.copy(C / "ended_statuses.xlsx", src)
    r = run("excel", "install", src)
    assert r.exit_code == 0, r.output
    lists = openpyxl.load_workbook(tmp_path / "台账_带下拉.xlsx")["下拉列表"]
    statuses = [c.value for c in lists["A"][1:] if c.value]
    assert set(ENDED.values()) <= set(statuses) and len(statuses) == len(set(statuses))


def test_the_button_says_the_remedy_once_and_the_cells_do_not(monkeypatch, tmp_path):
    """The 计算时限 button: the missing year's remedy is in its one message, not in the 时限说明 cells."""
    import xlwings as xw

    import xfsheets.excel as x
    from xfsheets import addin
    from test_excel import payload

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(addin, "pc_settings", lambda: {})
    monkeypatch.setattr(x.dt, "date", type("FrozenDate", (dt.date,), {"today": classmethod(lambda cls: D(2026, 12, 15))}))
    book = xw.Book(json=payload(C / "unknown_year_ledger_due.xlsx"))
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    message = x.compute_deadlines.__wrapped__(book)  # what the message box shows
    assert message.count("注意：有 2 件事项的期满日落在2027年") == 1 and message.count("calendar import") == 1
    written = [v for a in book.json()["actions"] if a["func"] == "setValues" for row in a["values"] for v in row]
    explains = [v for v in written if isinstance(v, str) and v.startswith(("办理阶段", "无法判断：")) and len(v) > 20]
    assert len(explains) == 2
    for text in explains:
        reads_aloud(text)


def test_the_terminal_table_of_open_matters_leaves_out_ended_ones():
    r = run("deadlines", C / "ended_statuses.xlsx", "--as-of", "2026-06-30")
    table = r.output.split("合计")[0]
    assert "E6" in table and not [k for k in ENDED if k in table]
    assert "不计时限 5 件" in r.output
