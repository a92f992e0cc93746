"""Mail headers (issue 20 item 10): what the clerk types decides exactly who gets the mail.

A line break in --subject, in the report's file name or in a --to display name, and two
addresses pasted without a separator, are refused before anything is built or sent (exit 2,
a Chinese message naming the bad value, no traceback). Addresses that are fine reach a real
SMTP server (aiosmtpd on 127.0.0.1) as exactly the intended envelope recipients.
"""
from __future__ import annotations

import email
import shutil
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main

REPORT = DATA / "privacy" / "汇总报表_无个人信息.xlsx"


@pytest.fixture
def smtp(smtp_server):
    return smtp_server()


pytestmark = pytest.mark.usefixtures("isolated_settings")  # no settings, password or keyring of this machine


@pytest.fixture
def report(tmp_path) -> Path:
    path = tmp_path / "报表" / "汇总报表.xlsx"
    path.parent.mkdir()
    shutil.copy(REPORT, path)
    return path


def _send(report: Path, port: int, *args: str):
    return CliRunner().invoke(main, ["mail", str(report), "--smtp", f"127.0.0.1:{port}",
                                     "--from", "clerk@xfj.gov.cn", *args])


def _refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "内部错误" not in result.output, result.output
    for word in words:
        assert word in result.output, (word, result.output)


@pytest.mark.parametrize("subject", ["月报\r\nBcc: spy@evil.example", "月报\nBcc: spy@evil.example", "月报\r"])
def test_a_line_break_in_the_subject_is_refused(report, smtp, subject):
    handler, port = smtp
    _refused(_send(report, port, "--to", "a@xfj.gov.cn", "--subject", subject), "邮件主题", "换行")
    assert handler.messages == []


def test_a_line_break_in_the_attachment_name_is_refused(tmp_path, smtp):
    handler, port = smtp
    report = tmp_path / "汇总报表\nBcc: spy@evil.example.xlsx"
    shutil.copy(REPORT, report)
    _refused(_send(report, port, "--to", "a@xfj.gov.cn"), "报表文件名", "换行", "改名")
    assert handler.messages == []


@pytest.mark.parametrize("to", [
    '"张三\r\nBcc: spy@evil.example" <a@xfj.gov.cn>',
    "张三\n <spy@evil.example>, <a@xfj.gov.cn>",
    "a@xfj.gov.cn\r\nspy@evil.example",
])
def test_a_line_break_in_a_recipient_is_refused(report, smtp, to):
    handler, port = smtp
    _refused(_send(report, port, "--to", to), "收件人地址", "换行")
    assert handler.messages == []


@pytest.mark.parametrize("to", ["a@xfj.gov.cn<b@xfj.gov.cn>", "a@xfj.gov.cn b@xfj.gov.cn", "a@xfj.gov.cnb@xfj.gov.cn",
                                "张三 <a@xfj.gov.cn> <b@xfj.gov.cn>"])
def test_two_addresses_run_together_are_refused(report, smtp, to):
    handler, port = smtp
    _refused(_send(report, port, "--to", to), f"收件人地址「{to}」", "连在了一起")
    assert handler.messages == []


@pytest.mark.parametrize("to,words", [("张三", ("「张三」", "不是有效的邮箱地址")),
                                      ('"b@evil.example" <a@xfj.gov.cn>', ("姓名部分也像邮箱地址",))])
def test_what_cannot_be_parsed_as_one_mailbox_is_refused(report, smtp, to, words):
    handler, port = smtp
    _refused(_send(report, port, "--to", to), *words)
    assert handler.messages == []


def test_the_envelope_holds_exactly_the_intended_recipients(report, smtp):
    handler, port = smtp
    result = _send(report, port, "--to", "张三 <a@xfj.gov.cn>", "--to", "b@xfj.gov.cn；c@xfj.gov.cn",
                   "--cc", "李四<d@xfj.gov.cn>，e@xfj.gov.cn", "--subject", "3月信访月报")
    assert result.exit_code == 0, result.output
    assert len(handler.messages) == 1
    got = handler.messages[0]
    assert sorted(got["rcpt_tos"]) == ["a@xfj.gov.cn", "b@xfj.gov.cn", "c@xfj.gov.cn", "d@xfj.gov.cn", "e@xfj.gov.cn"]
    msg = email.message_from_bytes(got["data"], policy=policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@xfj.gov.cn", "b@xfj.gov.cn", "c@xfj.gov.cn"]
    assert msg["To"].addresses[0].display_name == "张三"
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["d@xfj.gov.cn", "e@xfj.gov.cn"]
    assert msg["Bcc"] is None and str(msg["Subject"]) == "3月信访月报"
