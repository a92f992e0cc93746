"""Emailing a report: the MIME message, a real SMTP server (aiosmtpd), the CLI, the settings file."""
from __future__ import annotations

import datetime as dt
import email
import ipaddress
import shutil
import socket
import ssl
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from tests.conftest import Recorder, digest, free_port, smtp_server  # noqa: F401
from xfsheets.cli import main
from xfsheets.settings import load_config, smtp_password
from xfsheets.errors import ConfigError, XfsheetsError
from xfsheets.mail import MailError, build_message, headline_table, send_message, write_eml
from xfsheets.privacy import find_personal_data, mask_workbook

REPORT_NAME = "汇总报表_含个人信息.xlsx"
SECRET = "s3cret-授权码"


# --- a real SMTP server -------------------------------------------------------------

def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"clerk@xfj.gov.cn"
          and auth_data.password == SECRET.encode("utf-8"))
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _server_context(certificate) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    return ctx


def _client_context(certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


# --- helpers ------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("isolated_settings")  # no settings, password or keyring of this machine


@pytest.fixture
def report(data_dir, tmp_path) -> Path:
    path = tmp_path / "报表" / REPORT_NAME
    path.parent.mkdir()
    shutil.copy(data_dir / "privacy" / REPORT_NAME, path)
    return path


def _parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def _attachment(msg):
    parts = list(msg.iter_attachments())
    assert len(parts) == 1
    return parts[0]


def _save_attachment(msg, folder: Path) -> Path:
    part = _attachment(msg)
    out = folder / ("收到_" + part.get_filename())
    out.write_bytes(part.get_content())
    return out


def _values(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _invoke(args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


# --- the message --------------------------------------------------------------------

def test_message_headers_attachment_and_body_are_masked(report, tmp_path):
    before = digest(report)
    msg = build_message(report, to=["市信访局 <sxfj@example.gov.cn>", "b@example.gov.cn"],
                        cc=["leader@example.gov.cn"], sender="县信访局 <xfj@example.gov.cn>")
    raw = msg.as_bytes()
    raw.decode("ascii")  # every header and body part is 7-bit: nothing for a gateway to mangle
    assert b"=?utf-8?" in raw

    got = _parse(raw)
    assert got["Subject"] == "报送：汇总报表_含个人信息"
    assert str(got["From"]) == "县信访局 <xfj@example.gov.cn>"
    assert [a.addr_spec for a in got["To"].addresses] == ["sxfj@example.gov.cn", "b@example.gov.cn"]
    assert got["To"].addresses[0].display_name == "市信访局"
    assert got["Cc"].addresses[0].addr_spec == "leader@example.gov.cn"
    assert got["Message-ID"] and got["Date"]

    part = _attachment(got)
    assert part.get_filename() == REPORT_NAME  # RFC 2231 filename*= decoded
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raw_name = part["Content-Type"].params["name"]
    assert raw_name == REPORT_NAME
    raw_ct = raw.decode("ascii").split("Content-Type: \r\n application/vnd.openxml")[1].split("\r\n\r\n")[0]
    encoded = raw_ct.split('name="', 1)[1].rsplit('"', 1)[0]
    assert str(make_header(decode_header(encoded))) == REPORT_NAME  # the RFC 2047 name= for Outlook/Foxmail
    assert all(len(line) <= 78 for line in raw.decode("ascii").split("\r\n"))

    saved = _save_attachment(got, tmp_path)
    assert find_personal_data(saved) == []
    assert find_personal_data(report)  # the file on disk still has them ...
    assert digest(report) == before  # ... and is unchanged
    reference = tmp_path / "ref.xlsx"
    mask_workbook(report, reference)
    assert _values(saved) == _values(reference)

    plain = got.get_body(("plain",)).get_content()
    html_body = got.get_body(("html",)).get_content()
    for text in (plain, html_body):
        assert "及时受理率" in text and "91.7%" in text and "2026年3月1日至2026年3月31日" in text
        assert "已做脱敏处理" in text
    assert "<td>及时受理率</td><td>91.7%</td><td>11</td><td>12</td>" in html_body


def test_include_personal_data_attaches_the_file_as_is(report):
    msg = build_message(report, to=["a@example.gov.cn"], include_personal_data=True, subject="3月报表")
    got = _parse(msg.as_bytes())
    assert got["Subject"] == "3月报表"
    assert _attachment(got).get_content() == report.read_bytes()
    assert "未脱敏" in got.get_body(("plain",)).get_content()


def test_body_is_escaped_and_masked(tmp_path):
    path = tmp_path / "报表.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["不是首页"])
    head = wb.create_sheet("总体情况", 0)
    head.append(["指标", "数值"])
    head.append(["<b>信访量</b> & 人次", 12])
    head.append(["按期办结率", 0.8])
    head["B3"].number_format = "0.0%"
    head.append(["联系人电话", "13812345678"])
    head.append(["统计日", dt.datetime(2026, 3, 5)])
    wb.save(path)

    assert headline_table(path) == ("总体情况", [["指标", "数值"], ["<b>信访量</b> & 人次", "12"],
                                             ["按期办结率", "80.0%"], ["联系人电话", "13812345678"],
                                             ["统计日", "2026年3月5日"]])
    got = _parse(build_message(path, to=["a@example.gov.cn"]).as_bytes())
    html_body = got.get_body(("html",)).get_content()
    assert "&lt;b&gt;信访量&lt;/b&gt; &amp; 人次" in html_body and "<b>信访量" not in html_body
    assert "138****5678" in html_body and "13812345678" not in html_body
    assert "13812345678" not in got.get_body(("plain",)).get_content()


def test_bad_inputs_are_clear_errors(report, tmp_path):
    with pytest.raises(ConfigError, match="不是有效的邮箱地址"):
        build_message(report, to=["张三"])
    with pytest.raises(XfsheetsError, match="不存在"):
        build_message(tmp_path / "无.xlsx", to=["a@example.gov.cn"])
    xls = tmp_path / "旧.xls"
    xls.write_bytes(b"x")
    with pytest.raises(XfsheetsError, match="xlsx"):
        build_message(xls, to=["a@example.gov.cn"])


def test_write_eml_is_a_draft_with_crlf(report, tmp_path):
    msg = build_message(report, to=["a@example.gov.cn"])
    out = write_eml(msg, tmp_path / "邮件" / "报送.eml")
    data = out.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    got = _parse(data)
    assert got["X-Unsent"] == "1" and "X-Unsent" not in msg
    assert _attachment(got).get_content() == _attachment(msg).get_content()
    assert find_personal_data(_save_attachment(got, tmp_path)) == []


# --- sending --------------------------------------------------------------------------

def test_send_plain_smtp_delivers_to_every_recipient(report, smtp_server, tmp_path):
    handler, port = smtp_server()
    msg = build_message(report, to=["a@example.gov.cn", "b@example.gov.cn"], cc=["c@example.gov.cn"],
                        sender="xfj@example.gov.cn")
    send_message(msg, host="127.0.0.1", port=port)
    (received,) = handler.messages
    assert received["mail_from"] == "xfj@example.gov.cn"
    assert received["rcpt_tos"] == ["a@example.gov.cn", "b@example.gov.cn", "c@example.gov.cn"]
    got = _parse(received["data"])
    assert got["Subject"] == "报送：汇总报表_含个人信息"
    assert _attachment(got).get_filename() == REPORT_NAME
    assert _attachment(got).get_content() == _attachment(msg).get_content()
    assert find_personal_data(_save_attachment(got, tmp_path)) == []


def test_send_starttls_with_login(report, smtp_server, certificate):
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True,
                                authenticator=_authenticator)
    msg = build_message(report, to=["a@example.gov.cn"], sender="clerk@xfj.gov.cn")
    send_message(msg, host="127.0.0.1", port=port, security="starttls", user="clerk@xfj.gov.cn",
                 password=SECRET, ssl_context=_client_context(certificate))
    (received,) = handler.messages
    assert received["tls"] and received["auth"].login == b"clerk@xfj.gov.cn"


def test_send_implicit_ssl(report, smtp_server, certificate):
    handler, port = smtp_server(ssl_context=_server_context(certificate), authenticator=_authenticator,
                                auth_require_tls=False)
    msg = build_message(report, to=["a@example.gov.cn"], sender="clerk@xfj.gov.cn")
    send_message(msg, host="127.0.0.1", port=port, security="ssl", user="clerk@xfj.gov.cn",
                 password=SECRET, ssl_context=_client_context(certificate))
    assert handler.messages[0]["rcpt_tos"] == ["a@example.gov.cn"]


def test_send_refuses_without_from_or_password(report):
    msg = build_message(report, to=["a@example.gov.cn"])
    with pytest.raises(ConfigError, match="发件人"):
        send_message(msg, host="127.0.0.1", port=1)
    msg = build_message(report, to=["a@example.gov.cn"], sender="x@example.gov.cn")
    with pytest.raises(ConfigError, match="XFSHEETS_SMTP_PASSWORD"):
        send_message(msg, host="127.0.0.1", port=1, security="ssl", user="x@example.gov.cn")


def test_timeout_is_a_mail_error(report):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never says hello
    try:
        msg = build_message(report, to=["a@example.gov.cn"], sender="x@example.gov.cn")
        with pytest.raises(MailError, match="超时") as info:
            send_message(msg, host="127.0.0.1", port=silent.getsockname()[1], timeout=0.5)
        assert info.value.exit_code == 1
    finally:
        silent.close()


# --- the command line ---------------------------------------------------------------

def test_cli_sends_masked_report(report, smtp_server, tmp_path):
    before = digest(report)
    handler, port = smtp_server()
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--to", "b@example.gov.cn,c@example.gov.cn",
                      "--cc", "d@example.gov.cn", "--from", "xfj@example.gov.cn", "--subject", "2026年3月信访汇总",
                      "--smtp", f"127.0.0.1:{port}"])
    assert result.exit_code == 0, result.output
    assert "已发送" in result.output and "已脱敏" in result.output
    (received,) = handler.messages
    assert received["rcpt_tos"] == ["a@example.gov.cn", "b@example.gov.cn", "c@example.gov.cn", "d@example.gov.cn"]
    got = _parse(received["data"])
    assert got["Subject"] == "2026年3月信访汇总"
    assert find_personal_data(_save_attachment(got, tmp_path)) == []
    assert digest(report) == before


def test_cli_include_personal_data(report, smtp_server):
    handler, port = smtp_server()
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--from", "xfj@example.gov.cn",
                      "--smtp", f"127.0.0.1:{port}", "--include-personal-data"])
    assert result.exit_code == 0, result.output
    assert _attachment(_parse(handler.messages[0]["data"])).get_content() == report.read_bytes()


def test_cli_eml_needs_no_server(report, tmp_path):
    out = tmp_path / "草稿.eml"
    result = _invoke(["mail", report, "--eml", out])
    assert result.exit_code == 0, result.output
    got = _parse(out.read_bytes())
    assert got["To"] is None and _attachment(got).get_filename() == REPORT_NAME


def test_cli_connection_refused(report):
    before = digest(report)
    port = free_port()  # nothing listens there
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--from", "x@example.gov.cn",
                      "--smtp", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "连接被拒绝" in result.output and "端口" in result.output
    assert report.exists() and digest(report) == before


def _trust(certificate, folder: Path) -> None:
    """The clerk's own settings file (profile folder under ``folder``) trusting the test CA (test-only;
    verification stays on)."""
    own = folder / "config-home" / "xfsheets"
    own.mkdir(parents=True, exist_ok=True)
    (own / "xfsheets.toml").write_text(f'[smtp]\ncafile = "{Path(certificate[0]).as_posix()}"\n', encoding="utf-8")


class CountingAuthenticator:
    """The test authenticator, counting every login attempt the server sees."""

    def __init__(self):
        self.attempts = 0

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.attempts += 1
        return _authenticator(server, session, envelope, mechanism, auth_data)


@pytest.mark.parametrize("wrong", ["wrong-password-123", "wrong-密码-123"])
def test_cli_authentication_refused_never_shows_the_password(report, smtp_server, certificate, monkeypatch,
                                                            tmp_path, wrong):
    auth = CountingAuthenticator()
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True, authenticator=auth)
    _trust(certificate, tmp_path)
    monkeypatch.setenv("XFSHEETS_SMTP_PASSWORD", wrong)
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--smtp", f"127.0.0.1:{port}", "--starttls",
                      "--user", "clerk@xfj.gov.cn"])
    assert result.exit_code == 1
    assert "拒绝登录" in result.output and "授权码" in result.output
    assert wrong not in result.output
    assert handler.messages == [] and report.exists()
    assert auth.attempts == 1  # no second login (smtplib's login would try LOGIN after PLAIN)


def test_cli_login_without_tls_is_refused_before_connecting(report, monkeypatch, tmp_path):
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(1)
    listening.setblocking(False)
    port = listening.getsockname()[1]
    monkeypatch.setenv("XFSHEETS_SMTP_PASSWORD", SECRET)
    try:
        result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--smtp", f"127.0.0.1:{port}",
                          "--user", "clerk@xfj.gov.cn"])
        (tmp_path / "config-home" / "xfsheets").mkdir(parents=True)
        (tmp_path / "config-home" / "xfsheets" / "xfsheets.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nuser = "clerk@xfj.gov.cn"\n',
            encoding="utf-8")
        from_file = _invoke(["mail", report, "--to", "a@example.gov.cn"])
        with pytest.raises(BlockingIOError):
            listening.accept()  # nobody ever connected
    finally:
        listening.close()
    for res in (result, from_file):
        assert res.exit_code == 2
        assert "未加密" in res.output and "--ssl" in res.output and "465" in res.output
        assert "--starttls" in res.output and "587" in res.output and "security" in res.output
        assert SECRET not in res.output
    msg = build_message(report, to=["a@example.gov.cn"], sender="clerk@xfj.gov.cn")
    with pytest.raises(ConfigError, match="未加密"):
        send_message(msg, host="127.0.0.1", port=1, user="clerk@xfj.gov.cn", password=SECRET)


def test_tls_context_always_verifies(certificate, tmp_path):
    from xfsheets.mail import tls_context

    for ctx in (tls_context(), tls_context(certificate[0])):
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError, match="证书文件"):
        tls_context(bad)
    (tmp_path / "config-home" / "xfsheets").mkdir(parents=True)
    (tmp_path / "config-home" / "xfsheets" / "xfsheets.toml").write_text('[smtp]\ncafile = "无此文件.pem"\n',
                                                                       encoding="utf-8")
    with pytest.raises(ConfigError, match="cafile"):
        load_config()


def test_cli_password_from_keyring(report, smtp_server, certificate, monkeypatch, tmp_path):
    handler, port = smtp_server(ssl_context=_server_context(certificate), authenticator=_authenticator,
                                auth_require_tls=False)
    _trust(certificate, tmp_path)
    asked = []
    monkeypatch.setattr("keyring.get_password", lambda service, user: asked.append((service, user)) or SECRET)
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--smtp", f"127.0.0.1:{port}", "--ssl",
                      "--user", "clerk@xfj.gov.cn"])
    assert result.exit_code == 0, result.output
    assert asked == [("xfsheets", "clerk@xfj.gov.cn")]
    assert handler.messages[0]["mail_from"] == "clerk@xfj.gov.cn"  # the login user is the sender
    assert SECRET not in result.output


def test_cli_no_password_anywhere(report, monkeypatch):
    from keyring.errors import NoKeyringError

    def no_backend(service, user):
        raise NoKeyringError("No recommended backend was available.")

    monkeypatch.setattr("keyring.get_password", no_backend)
    assert smtp_password("clerk@xfj.gov.cn") is None
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--smtp", "127.0.0.1:1", "--ssl",
                      "--user", "clerk@xfj.gov.cn"])
    assert result.exit_code == 2
    assert "XFSHEETS_SMTP_PASSWORD" in result.output and "keyring set xfsheets" in result.output


@pytest.mark.parametrize("rejected, code, text", [
    (["bad@example.gov.cn"], 1, "拒收全部收件人"),
    (["bad@example.gov.cn", "good@example.gov.cn"], 1, "已发给其他收件人"),
])
def test_cli_recipient_rejected(report, smtp_server, rejected, code, text):
    handler, port = smtp_server(Recorder(reject={"bad@example.gov.cn"}))
    args = ["mail", report, "--from", "x@example.gov.cn", "--smtp", f"127.0.0.1:{port}"]
    for address in rejected:
        args += ["--to", address]
    result = _invoke(args)
    assert result.exit_code == code
    assert text in result.output and "bad@example.gov.cn" in result.output and "550" in result.output
    delivered = [m["rcpt_tos"] for m in handler.messages]
    assert delivered == ([] if len(rejected) == 1 else [["good@example.gov.cn"]])
    assert report.exists()


def test_cli_untrusted_certificate_is_a_tls_error(report, smtp_server, certificate):
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True)
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--from", "x@example.gov.cn",
                      "--smtp", f"127.0.0.1:{port}", "--starttls"])
    assert result.exit_code == 1
    assert "TLS" in result.output and "证书" in result.output
    assert handler.messages == []


def test_cli_plain_to_a_starttls_only_server_fails_clearly(report, smtp_server, certificate):
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True)
    result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--from", "x@example.gov.cn",
                      "--smtp", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "邮件服务器 127.0.0.1" in result.output and "530" in result.output
    assert handler.messages == []


@pytest.mark.parametrize("args, text", [
    (["--to", "a@example.gov.cn", "--smtp", "h:25", "--ssl", "--starttls"], "只能选一个"),
    (["--to", "不是地址", "--smtp", "h:25"], "不是有效的邮箱地址"),
    (["--to", "a@example.gov.cn", "--from", "x@example.gov.cn"], "未指定邮件服务器"),
    (["--to", "a@example.gov.cn", "--smtp", "h:99999"], "端口"),
    (["--smtp", "h:25"], "--to"),
])
def test_cli_bad_arguments_are_exit_2(report, args, text):
    result = _invoke(["mail", report, *args])
    assert result.exit_code == 2
    assert text in result.output


# --- the settings file ------------------------------------------------------------

def test_settings_file_supplies_the_defaults(report, smtp_server, certificate, tmp_path, monkeypatch):
    handler, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True,
                                authenticator=_authenticator)
    folder = tmp_path / "config-home" / "xfsheets"
    folder.mkdir(parents=True)
    (folder / "xfsheets.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "starttls"\nuser = "clerk@xfj.gov.cn"\n'
        f'sender = "县信访局 <clerk@xfj.gov.cn>"\ntimeout = 5\ncafile = "{Path(certificate[0]).as_posix()}"\n\n'
        f'[mail]\nto = ["shi@example.gov.cn"]\n',
        encoding="utf-8")
    cfg = load_config()
    assert cfg.path == folder / "xfsheets.toml" and cfg.smtp.port == port and cfg.smtp.security == "starttls"
    assert cfg.smtp.cafile == Path(certificate[0])
    monkeypatch.setenv("XFSHEETS_SMTP_PASSWORD", SECRET)
    result = _invoke(["mail", report])
    assert result.exit_code == 0, result.output
    (received,) = handler.messages
    assert received["rcpt_tos"] == ["shi@example.gov.cn"]
    assert received["tls"] and received["auth"].login == b"clerk@xfj.gov.cn"
    assert str(_parse(received["data"])["From"]) == "县信访局 <clerk@xfj.gov.cn>"


def test_settings_file_timeout_applies(report, tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        (tmp_path / "config-home" / "xfsheets").mkdir(parents=True)
        (tmp_path / "config-home" / "xfsheets" / "xfsheets.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {silent.getsockname()[1]}\ntimeout = 0.5\n', encoding="utf-8")
        result = _invoke(["mail", report, "--to", "a@example.gov.cn", "--from", "x@example.gov.cn"])
    finally:
        silent.close()
    assert result.exit_code == 1 and "超时（0.5 秒" in result.output


@pytest.mark.parametrize("text, message", [
    ('[smtp]\nhost = "h"\npassword = "abc"\n', "不允许在文件中保存密码"),
    ('[smtp]\nsecurity = "tls13"\n', "security"),
    ('[smtp]\nport = "465"\n', "port"),
    ('[smtp\nhost = "h"\n', "格式有误"),
    ('[mail]\nto = 5\n', "邮箱地址列表"),
])
def test_settings_file_mistakes(tmp_path, text, message):
    path = tmp_path / "xfsheets.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)
    result = _invoke(["mail", "x.xlsx", "--to", "a@example.gov.cn", "--config", path])
    assert result.exit_code == 2 and message in result.output
