"""Reminders before the limit (issue 25): the ladder over a simulated fortnight against a real SMTP server on
127.0.0.1 (STARTTLS, aiosmtpd), the clock injected; office hours and the official calendar; never twice; a
server that drops the connection; the CLI (template, --eml, held, --now); the schedule (generated, never installed)."""
from __future__ import annotations

import datetime as dt
import email
import shutil
from email import policy as email_policy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import Recorder, smtp_server  # noqa: F401
from tests.test_mail import _client_context, _server_context, certificate  # noqa: F401
from xfsheets.cli import main
from xfsheets.errors import ConfigError
from xfsheets.mail import send_message
from xfsheets.policy import load_policy
from xfsheets.privacy import find_personal_data
from xfsheets.reader import read_ledger
from xfsheets.remind import parse_at, read_contacts, run_remind, sending_window
from xfsheets.remind.schedule import schedule_plan
from xfsheets.remind.sentlog import LOG_NAME, SentLog

DATA = Path(__file__).resolve().parent / "data" / "remind"
PHONE = "13912345678"  # in R-01's 反映问题


pytestmark = pytest.mark.usefixtures("isolated_settings")  # no settings, password or keyring of this machine


@pytest.fixture
def office(tmp_path) -> Path:
    folder = tmp_path / "信访台账"
    folder.mkdir()
    shutil.copy(DATA / "台账_提醒.xlsx", folder / "台账.xlsx")
    shutil.copy(DATA / "单位通讯录.xlsx", folder / "单位通讯录.xlsx")
    return folder


def _parse(data: bytes):
    return email.message_from_bytes(data, policy=email_policy.default)


def _matters(msg, column: str = "提醒") -> dict[str, str]:
    """信访件编号 -> the column's value (提醒, 期满日...), read from the plain body."""
    body = msg.get_body(("plain",)).get_content()
    out = {}
    for line in body.splitlines():
        if line[:1].isdigit() and "信访件编号 " in line:
            fields = dict(part.split(" ", 1) for part in line.split(". ", 1)[1].split("｜"))
            out[fields["信访件编号"]] = fields[column]
    return out


LABEL = {"before_5": "期满前5个工作日", "before_1": "期满前1个工作日", "overdue": "超期", "severe": "严重超期"}
# day -> unit -> {matter: rung}: the ladder read off the fixture's dates (tests/data/make_remind.py)
EXPECTED = {
    "2026-09-28": {"甲镇": {"R-01": "before_5", "R-08": "before_5"}, "乙乡": {"R-02": "severe", "R-09": "before_5"},
                   "丙街道": {"R-04": "before_5", "R-05": "overdue", "R-06": "before_5"}},
    "2026-09-29": {"乙乡": {"R-03": "before_5"}, "丙街道": {"R-06": "before_1"}},
    "2026-09-30": {"甲镇": {"R-08": "before_1"}, "乙乡": {"R-09": "before_1"}, "丙街道": {"R-04": "before_1"}},
    "2026-10-08": {"甲镇": {"R-01": "before_1"}, "丙街道": {"R-04": "before_5"}},  # R-04 extended to 10-13: re-armed
    "2026-10-09": {"甲镇": {"R-08": "overdue"}, "乙乡": {"R-09": "overdue"}},
    "2026-10-10": {"甲镇": {"R-01": "overdue"}, "乙乡": {"R-03": "before_1"}},  # a make-up Saturday: a workday
}
# mails held per day (runs at 07:30 and 21:00, and at 10:00 on rest days): what was pending at that moment
EXPECTED_HELD = {"2026-09-28": 3, "2026-09-29": 2, "2026-09-30": 3, **{f"2026-10-0{d}": 3 for d in range(1, 8)},
                 "2026-10-08": 2, "2026-10-09": 2, "2026-10-10": 2, "2026-10-11": 0}
RECIPIENTS = {  # (day, unit) -> (to, cc)
    ("2026-09-28", "乙乡"): (["yi@town.gov.cn"], ["wang@county.gov.cn", "yi-boss@town.gov.cn"]),
    ("2026-09-28", "丙街道"): (["bing@town.gov.cn", "bing2@town.gov.cn"], ["li@county.gov.cn"]),
    ("2026-10-09", "甲镇"): (["jia@town.gov.cn"], []),  # R-08's 包案领导 赵主任 has no address: said, not copied
    ("2026-10-09", "乙乡"): (["yi@town.gov.cn"], ["wang@county.gov.cn"]),
    ("2026-10-10", "甲镇"): (["jia@town.gov.cn"], ["wang@county.gov.cn"]),
}
UNIT_TO = {"甲镇": ["jia@town.gov.cn"], "乙乡": ["yi@town.gov.cn"], "丙街道": ["bing@town.gov.cn", "bing2@town.gov.cn"]}


def _deliverer(port, certificate):
    def deliver(msg, mail):
        send_message(msg, host="127.0.0.1", port=port, security="starttls", ssl_context=_client_context(certificate))
        return "smtp"
    return deliver


def test_fortnight_ladder_over_a_holiday_and_a_make_up_saturday(office, smtp_server, certificate, tmp_path):
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True)
    deliver = _deliverer(port, certificate)
    policy = load_policy()
    contacts = read_contacts(office / "单位通讯录.xlsx")
    ledger_path = office / "台账.xlsx"
    table, seen_keys, no_address_runs = [], set(), 0
    day = dt.date(2026, 9, 28)
    while day <= dt.date(2026, 10, 11):
        if day == dt.date(2026, 10, 8):  # the clerk saved the week's ledger: R-04 extended, R-06 closed on 10-02
            shutil.copy(DATA / "台账_提醒_一周后.xlsx", ledger_path)
        before = len(handler.messages)
        held = 0
        for hour, minute in ((7, 30), (10, 0), (21, 0)):
            at = dt.datetime.combine(day, dt.time(hour, minute))
            log = SentLog.locate(None, [ledger_path])
            try:
                result = run_remind(read_ledger(ledger_path), at=at, policy=policy, contacts=contacts, log=log,
                                    deliver=deliver, sender="县信访局 <xfj@county.gov.cn>")
            finally:
                log.close()
            held += result.count("held")
            assert result.count("failed") == 0
            no_address_runs += result.count("no_address")
            if result.count("held"):
                assert not result.window.open and result.window.next_at is not None
                assert result.window.next_at.time() == dt.time(8, 30)
        got = handler.messages[before:]
        expected = EXPECTED.get(day.isoformat(), {})
        table.append((day, "休" if not policy.calendar().is_work[policy.calendar().index(day)] else "班",
                      len(expected), len(got), held))
        units = {}
        for m in got:
            msg = _parse(m["data"])
            unit = str(msg["Subject"]).split("：", 1)[1].split("（", 1)[0]
            units[unit] = (msg, m)
            date = email.utils.parsedate_to_datetime(msg["Date"])
            assert date.date() == day and date.hour == 10  # never at night, never on a rest day
            assert m["tls"]
        assert sorted(units) == sorted(expected), day
        for unit, rungs in expected.items():
            msg, m = units[unit]
            assert _matters(msg) == {k: LABEL[v] for k, v in rungs.items()}, (day, unit)
            dues = _matters(msg, "期满日")
            for k, v in rungs.items():
                assert (k, v, dues[k]) not in seen_keys  # never twice for a matter, rung and due day
                seen_keys.add((k, v, dues[k]))
            if day.isoformat() == "2026-10-08" and unit == "丙街道":
                assert dues == {"R-04": "2026年10月13日"}  # the extension moved the due day: the ladder re-armed
            to, cc = RECIPIENTS.get((day.isoformat(), unit), (UNIT_TO[unit], []))
            assert m["rcpt_tos"] == to + cc, (day, unit)
            assert [a.strip() for a in str(msg["To"]).split(",")] == to
            assert [a.strip() for a in str(msg.get("Cc", "")).split(",") if a.strip()] == cc
            raw = m["data"].decode("ascii", "replace")
            body = msg.get_body(("plain",)).get_content()
            assert PHONE not in body and PHONE not in raw  # masked: 139****5678
            if unit == "甲镇" and "R-01" in rungs:
                assert "139****5678" in body
            if day >= dt.date(2026, 10, 1):
                assert "R-06" not in body  # closed on 10-02 while its reminder was held: dropped
            attachments = list(msg.iter_attachments())
            if "severe" in rungs.values():
                (part,) = attachments
                assert part.get_filename() == "督办单_乙乡.xlsx"
                saved = tmp_path / f"{day}_{part.get_filename()}"
                saved.write_bytes(part.get_content())
                assert find_personal_data(saved) == []
                wb = openpyxl.load_workbook(saved)
                texts = {str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value}
                assert any("R-02" in t for t in texts) and not any("R-09" in t for t in texts)
            else:
                assert attachments == []
        day += dt.timedelta(days=1)
    print("\n日期        日历  应发  实发  暂存")
    for d, kind, expected_n, sent_n, held in table:
        print(f"{d}  {kind}    {expected_n}     {sent_n}     {held}")
    assert [(d.isoformat(), e, s) for d, _, e, s, _ in table] == [(d.isoformat(), e, e) for d, _, e, _, _ in table]
    assert {d.isoformat(): h for d, _, _, _, h in table} == EXPECTED_HELD
    assert sum(s for *_, s, _ in table) == 14
    assert no_address_runs > 0  # 丁单位's matter is listed on every run, never skipped silently
    assert (office / LOG_NAME).is_file()
    assert read_ledger(DATA / "台账_提醒.xlsx").frame.shape[0] == 9  # the fixture itself untouched


class DropMidMessage(Recorder):
    """A server that receives the whole message and drops the connection before saying it accepted it."""

    def __init__(self):
        super().__init__()
        self.drop = True
        self.dropped = 0

    async def handle_DATA(self, server, session, envelope):
        if self.drop:
            self.dropped += 1
            server.transport.abort()
            return "421 closing"
        return await super().handle_DATA(server, session, envelope)


def test_a_dropped_connection_leaves_the_reminder_unsent_and_retried(office, smtp_server, certificate):
    handler, port = smtp_server(DropMidMessage(), tls_context=_server_context(certificate), require_starttls=True)
    deliver = _deliverer(port, certificate)
    policy = load_policy()
    contacts = read_contacts(office / "单位通讯录.xlsx")
    at = dt.datetime(2026, 9, 28, 10, 0)

    def run():
        log = SentLog.locate(None, [office / "台账.xlsx"])
        try:
            return run_remind(read_ledger(office / "台账.xlsx"), at=at, policy=policy, contacts=contacts, log=log,
                              deliver=deliver, sender="xfj@county.gov.cn")
        finally:
            log.close()

    first = run()
    assert first.count("failed") == 3 and first.count("sent") == 0 and handler.dropped == 3
    assert all("断开了连接" in m.error for m in first.mails if m.status == "failed")
    assert first.exit_code == 1
    handler.drop = False
    second = run()
    assert second.count("sent") == 3 and len(handler.messages) == 3  # retried, every one
    third = run()
    assert third.count("sent") == 0 and len(handler.messages) == 3  # and then never again


@pytest.mark.parametrize("at, open_, reason, next_at", [
    ("2026-09-30 08:29", False, "还没到上班时间", "2026-09-30 08:30"),
    ("2026-09-30 08:30", True, "", None),
    ("2026-09-30 17:30", False, "已过下班时间", "2026-10-08 08:30"),
    ("2026-10-03 10:00", False, "国庆节放假", "2026-10-08 08:30"),
    ("2026-10-10 09:00", True, "", None),  # 调休上班的星期六
    ("2026-09-20 09:00", True, "", None),  # 调休上班的星期日
    ("2026-10-11 09:00", False, "星期日休息日", "2026-10-12 08:30"),
])
def test_office_hours_on_the_official_calendar(at, open_, reason, next_at):
    w = sending_window(parse_at(at), load_policy())
    assert w.open is open_ and reason in w.reason
    assert (w.next_at.strftime("%Y-%m-%d %H:%M") if w.next_at else None) == next_at


def test_an_unknown_year_is_said_and_held():
    w = sending_window(parse_at("2031-03-03 10:00"), load_policy())
    assert not w.open and "2031年的节假日安排尚未收录" in w.reason and "无法判断" in w.reason


def test_policy_ladder_numbers_are_bounded(tmp_path):
    bad = tmp_path / "规则.toml"
    bad.write_text("[remind]\nbefore_workdays = [5, 100]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="before_workdays = 100 超出允许范围 0 到 60"):
        load_policy(bad)
    bad.write_text('[remind]\noffice_hours = "17:30-08:30"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="不早于结束"):
        load_policy(bad)
    good = tmp_path / "本地.toml"
    good.write_text('[remind]\nbefore_workdays = [3]\nslip_on = []\noffice_hours = "09:00-17:00"\n', encoding="utf-8")
    p = load_policy(good)
    assert p.remind.before_workdays == (3,) and p.remind.slip_on == () and p.remind.office_hours[0] == dt.time(9)


# --- the door ------------------------------------------------------------------------

def _invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_template_lists_the_ledger_units_and_leaders(office, tmp_path):
    out = tmp_path / "新通讯录.xlsx"
    r = _invoke(["remind", office / "台账.xlsx", "--template", out])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert [c.value for c in wb["单位通讯录"][1]] == ["单位", "联系人", "邮箱", "分管领导邮箱"]
    assert sorted(r[0] for r in wb["单位通讯录"].iter_rows(min_row=2, values_only=True)) == ["丁单位", "丙街道", "乙乡", "甲镇"]
    assert sorted(r[0] for r in wb["领导通讯录"].iter_rows(min_row=2, values_only=True)) == ["李局长", "王副县长", "赵主任"]
    r = _invoke(["remind", office / "台账.xlsx", "--template", office / "单位通讯录.xlsx"])
    assert r.exit_code == 2 and "Traceback" not in r.output  # never over the clerk's own file


def test_cli_held_at_night_says_when_and_now_overrides(office, tmp_path):
    eml = tmp_path / "邮件"
    r = _invoke(["remind", office / "台账.xlsx", "--contacts", office / "单位通讯录.xlsx", "--eml", eml,
                 "--at", "2026-09-28 21:00"])
    assert r.exit_code == 1, r.output  # 丁单位 has no address
    assert "暂不发送" in r.output and "2026年9月29日（星期二）08:30" in r.output
    assert "丁单位" in r.output and "没有丁单位的邮箱" in r.output
    assert not eml.exists() and not (office / LOG_NAME).exists()
    r = _invoke(["remind", office / "台账.xlsx", "--contacts", office / "单位通讯录.xlsx", "--eml", eml,
                 "--at", "2026-09-28 21:00", "--now"])
    assert "不在发送时间" in r.output and "--now" in r.output
    files = sorted(p.name for p in eml.iterdir())
    assert len(files) == 3 and all(f.endswith(".eml") for f in files)
    for f in eml.iterdir():
        assert PHONE not in f.read_bytes().decode("ascii", "replace")
    r = _invoke(["remind", office / "台账.xlsx", "--contacts", office / "单位通讯录.xlsx", "--eml", eml,
                 "--at", "2026-09-28 21:00", "--now", "--json"])
    assert '"eml": 0' in r.stdout  # nothing twice
    assert len(list(eml.iterdir())) == 3


def test_cli_contacts_from_the_clerks_settings_file(office, tmp_path):
    own = tmp_path / "config-home" / "xfsheets"
    own.mkdir(parents=True)
    (own / "xfsheets.toml").write_text(f'[remind]\ncontacts = "{(office / "单位通讯录.xlsx").as_posix()}"\n'
                                       '[smtp]\nhost = "127.0.0.1"\nport = 9\nsecurity = "starttls"\n', encoding="utf-8")
    r = _invoke(["remind", office / "台账.xlsx", "--at", "2026-09-28 21:00"])
    assert "甲镇" in r.output and "暂不发送" in r.output  # held at night: nothing tried to connect
    (own / "xfsheets.toml").write_text('[smtp]\nhost = "127.0.0.1"\nsecurity = "starttls"\n', encoding="utf-8")
    r = _invoke(["remind", office / "台账.xlsx", "--at", "2026-09-28 21:00"])
    assert r.exit_code == 2 and "--contacts" in r.output and "Traceback" not in r.output


def test_cli_bad_clock_is_a_clear_error(office):
    r = _invoke(["remind", office / "台账.xlsx", "--contacts", office / "单位通讯录.xlsx", "--at", "明天早上"])
    assert r.exit_code == 2 and "无法识别" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("system, needle", [("win32", "schtasks /Create"), ("linux-systemd", "OnCalendar="),
                                            ("linux-cron", "30 9 * * *")])
def test_schedule_is_generated_and_shown_never_installed_without_yes(system, needle, monkeypatch, office):
    calls = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: calls.append(a))
    plan = schedule_plan(system, times=["09:30"], ledgers=[office / "台账.xlsx"],
                         contacts=office / "单位通讯录.xlsx", python="/opt/xf/python")
    assert needle in plan.shown and "remind" in plan.shown and "台账.xlsx" in plan.shown
    assert plan.remove_shown  # removable
    r = _invoke(["remind", "install-schedule", office / "台账.xlsx", "--contacts", office / "单位通讯录.xlsx",
                 "--time", "09:30"])
    assert r.exit_code == 0 and "--yes" in r.output and calls == []


def test_the_history_store_keeps_the_sent_log_when_there_is_one(office, tmp_path):
    import sqlalchemy as sa

    from xfsheets.history import store as st

    made = st.open_store(str(office / st.STORE_NAME), create=True)
    with made.engine.begin() as conn:  # a store made before the reminders table existed
        st.reminders.drop(conn)
    made.engine.dispose()
    eml = tmp_path / "邮件"
    r = _invoke(["remind", office / "台账.xlsx", "--contacts", office / "单位通讯录.xlsx", "--eml", eml,
                 "--at", "2026-09-28 10:00"])
    assert r.exit_code == 1 and len(list(eml.iterdir())) == 3, r.output  # 1: 丁单位 has no address
    assert not (office / LOG_NAME).exists()
    s = st.open_store(str(office / st.STORE_NAME))
    try:
        with s.reading() as conn:
            rows = conn.execute(sa.select(st.reminders.c.matter, st.reminders.c.rung, st.reminders.c.channel)).all()
    finally:
        s.engine.dispose()
    assert sorted(rows) == sorted([("R-01", "before_5", "eml"), ("R-08", "before_5", "eml"), ("R-02", "severe", "eml"),
                                   ("R-09", "before_5", "eml"), ("R-04", "before_5", "eml"), ("R-05", "overdue", "eml"),
                                   ("R-06", "before_5", "eml")])


def test_a_refused_copy_does_not_resend_to_the_others(office, smtp_server, certificate):
    handler, port = smtp_server(Recorder(reject={"yi-boss@town.gov.cn"}), tls_context=_server_context(certificate),
                                require_starttls=True)
    contacts = read_contacts(office / "单位通讯录.xlsx")
    for _ in range(2):
        log = SentLog.locate(None, [office / "台账.xlsx"])
        try:
            result = run_remind(read_ledger(office / "台账.xlsx"), at=dt.datetime(2026, 9, 28, 10), policy=load_policy(),
                                contacts=contacts, log=log, deliver=_deliverer(port, certificate),
                                sender="xfj@county.gov.cn")
        finally:
            log.close()
        if _ == 0:
            (yi,) = [m for m in result.mails if m.unit == "乙乡"]
            assert yi.status == "sent" and any("yi-boss@town.gov.cn" in n for n in yi.notes)
    assert len(handler.messages) == 3  # the second run sent nothing again
    assert [m["rcpt_tos"] for m in handler.messages if "yi@town.gov.cn" in m["rcpt_tos"]] == [
        ["yi@town.gov.cn", "wang@county.gov.cn"]]
