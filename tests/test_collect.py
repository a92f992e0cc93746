"""Chasing reports (issue 25 item 2): `collect` on a folder with on-time, late, unreadable and foreign files."""
from __future__ import annotations

import datetime as dt
import email
import os
import shutil
from email import policy as email_policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Recorder, smtp_server  # noqa: F401
from tests.test_mail import _client_context, _server_context, certificate  # noqa: F401
from xfsheets.cli import main
from xfsheets.mail import send_message
from xfsheets.policy import load_policy
from xfsheets.remind import read_contacts
from xfsheets.remind.collect import collect_reports, remind_missing
from xfsheets.remind.sentlog import SentLog

DATA = Path(__file__).resolve().parent / "data" / "remind"
ARRIVED = {  # file -> when it was saved into the folder
    "甲镇零报告1009.xlsx": dt.datetime(2026, 10, 9, 9, 5),
    "乙乡零报告.xlsx": dt.datetime(2026, 10, 9, 18, 40),  # after 17:30: late
    "丙街道零报告.xlsx": dt.datetime(2026, 10, 9, 10, 0),  # named 丙街道, content 戊镇's
    "丁单位零报告.xlsx": dt.datetime(2026, 10, 9, 11, 0),  # broken upload
    "周报台账.xlsx": dt.datetime(2026, 10, 9, 11, 30),  # a ledger whose 责任单位 is 戊镇
}


pytestmark = pytest.mark.usefixtures("isolated_settings")  # no settings, password or keyring of this machine


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "报送"
    shutil.copytree(DATA / "报送文件夹", folder)
    for name, when in ARRIVED.items():
        os.utime(folder / name, (when.timestamp(), when.timestamp()))
    return folder


def test_collect_lists_each_unit_and_each_file(inbox):
    (inbox / "信访提醒发送记录_请勿删除.sqlite").write_bytes(b"SQLite format 3\x00")  # xfsheets' own log: not a report
    (inbox / "~$甲镇零报告1009.xlsx").write_bytes(b"lock")  # Excel's lock file while a clerk has it open
    contacts = read_contacts(DATA / "单位通讯录.xlsx")
    result = collect_reports(inbox, contacts, start=dt.date(2026, 10, 9), end=dt.date(2026, 10, 9),
                             at=dt.datetime(2026, 10, 10, 9, 0), policy=load_policy())
    assert result.due == dt.datetime(2026, 10, 9, 17, 30)
    units = {u.unit: u for u in result.units}
    assert {k: u.status for k, u in units.items()} == {"甲镇": "on_time", "乙乡": "late", "丙街道": "missing",
                                                       "丁单位": "missing"}
    assert units["甲镇"].files == ["甲镇零报告1009.xlsx"] and units["乙乡"].files == ["乙乡零报告.xlsx"]
    assert "丙街道零报告.xlsx" in units["丙街道"].detail and "不是报送单位的文件" in units["丙街道"].detail
    assert "丁单位零报告.xlsx" in units["丁单位"].detail and "无法读取" in units["丁单位"].detail
    files = {f.name: f for f in result.files}
    assert {k: f.status for k, f in files.items()} == {"甲镇零报告1009.xlsx": "on_time", "乙乡零报告.xlsx": "late",
                                                       "丙街道零报告.xlsx": "foreign", "丁单位零报告.xlsx": "unreadable",
                                                       "周报台账.xlsx": "foreign"}
    assert "文件名写的是丙街道，内容是戊镇的" in files["丙街道零报告.xlsx"].detail
    assert "戊镇" in files["周报台账.xlsx"].detail and "不在单位通讯录" in files["周报台账.xlsx"].detail
    assert files["乙乡零报告.xlsx"].detail.startswith("2026年10月9日（星期五）18:40")
    assert result.exit_code == 1


def test_before_the_due_time_a_unit_is_not_yet_late(inbox):
    result = collect_reports(inbox, read_contacts(DATA / "单位通讯录.xlsx"), start=dt.date(2026, 10, 9),
                             end=dt.date(2026, 10, 9), at=dt.datetime(2026, 10, 9, 12, 0), policy=load_policy())
    assert {u.unit: u.status for u in result.units}["丙街道"] == "not_yet"


def test_a_report_for_another_day_does_not_count(inbox):
    result = collect_reports(inbox, read_contacts(DATA / "单位通讯录.xlsx"), start=dt.date(2026, 10, 12),
                             end=dt.date(2026, 10, 12), at=dt.datetime(2026, 10, 13, 9, 0), policy=load_policy())
    assert {u.unit: u.status for u in result.units}["甲镇"] == "missing"
    assert {f.name: f.status for f in result.files}["甲镇零报告1009.xlsx"] == "other_period"


def test_remind_mails_the_missing_units_once(inbox, smtp_server, certificate, tmp_path):
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True)

    def deliver(msg, unit):
        send_message(msg, host="127.0.0.1", port=port, security="starttls", ssl_context=_client_context(certificate))
        return "smtp"

    contacts = read_contacts(DATA / "单位通讯录.xlsx")
    for _ in range(2):
        result = collect_reports(inbox, contacts, start=dt.date(2026, 10, 9), end=dt.date(2026, 10, 9),
                                 at=dt.datetime(2026, 10, 10, 9, 0), policy=load_policy())
        log = SentLog.locate(None, [inbox])
        try:
            remind_missing(result, contacts, at=result.at, policy=load_policy(), log=log, deliver=deliver,
                           sender="xfj@county.gov.cn")
        finally:
            log.close()
    assert len(handler.messages) == 1, result.remind_lines
    (m,) = handler.messages  # 丙街道 once; 丁单位 has no address (said); never twice
    assert m["rcpt_tos"] == ["bing@town.gov.cn", "bing2@town.gov.cn"]
    msg = email.message_from_bytes(m["data"], policy=email_policy.default)
    assert "丙街道" in str(msg["Subject"]) and "2026年10月9日" in msg.get_body(("plain",)).get_content()
    assert {u.unit: u.reminded for u in result.units if u.reminded} == {"丙街道": "sent_before", "丁单位": "no_address"}
    assert not any(p.suffix == ".sqlite" for p in inbox.iterdir())  # the log is beside the folder, not in it


def test_cli_collect(inbox):
    r = CliRunner().invoke(main, ["collect", str(inbox), "--contacts", str(DATA / "单位通讯录.xlsx"),
                                  "--date", "2026-10-09", "--at", "2026-10-10 09:00"], catch_exceptions=False)
    assert r.exit_code == 1, r.output
    for text in ("甲镇：已按时报送", "乙乡：迟报", "丙街道：逾期未报", "丁单位：逾期未报", "「丁单位零报告.xlsx」：无法读取",
                 "「周报台账.xlsx」：不是报送单位的文件"):
        assert text in r.output
    r = CliRunner().invoke(main, ["collect", str(inbox), "--contacts", str(DATA / "单位通讯录.xlsx"),
                                  "--date", "2026-10-09", "--from", "2026-10-01"], catch_exceptions=False)
    assert r.exit_code == 2 and "只能选一种" in r.output
