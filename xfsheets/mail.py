"""Delivering a report by email: build the message, send it over SMTP or write an .eml file.

- :func:`build_message` makes a MIME message with the workbook attached under its Chinese
  file name (RFC 2231 ``filename*=`` in Content-Disposition, plus an RFC 2047 ``name=`` in
  Content-Type for clients such as older Outlook and Foxmail), a Chinese subject (RFC 2047)
  and a body in plain text and HTML holding the headline table of the report (its first
  sheet ``总体情况``). Unless ``include_personal_data`` is set, the attachment is a masked copy
  (identity numbers and phones masked in every part, :func:`xfsheets.privacy.mask_workbook`),
  the body is built from that copy, the subject and the attachment's name are masked too,
  and all of it is scanned before the message is made (:class:`~xfsheets.privacy.PersonalDataError`
  when anything is left); the report on disk is never changed.
- :func:`send_message` sends it (plain, STARTTLS or SSL; a login only over TLS, one attempt,
  the server's certificate always verified); every delivery failure becomes a
  :class:`MailError` (exit code 1) whose Chinese message says what failed and how to fix it.
- :func:`write_eml` writes it to an ``.eml`` file that Outlook/Foxmail open as a draft.

The SMTP password is passed in by the caller (the CLI reads it from the environment or
the system keyring, :func:`xfsheets.settings.smtp_password`); it is never logged.
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import html
import re
import smtplib
import socket
import ssl
import tempfile
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Any, Iterable, Sequence

from xfsheets.errors import ConfigError, XfsheetsError

__all__ = ["MailError", "build_message", "send_message", "write_eml", "headline_table", "tls_context"]

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSM_TYPE = ("application", "vnd.ms-excel.sheet.macroEnabled.12")
HEADLINE_SHEET = "总体情况"
MAX_ROWS = 60
MAX_COLS = 12
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class MailError(XfsheetsError):
    """The message could not be delivered (the report itself is fine and kept)."""

    exit_code = 1


# --- the headline table -----------------------------------------------------------

def _decimals(number_format: str) -> int | None:
    m = re.search(r"\.(0+)", number_format or "")
    return len(m.group(1)) if m else (0 if re.search(r"0", number_format or "") else None)


def _display(value: Any, number_format: str = "General") -> str:
    """A cell value as a person reads it in Excel (dates 2026年3月5日, percents, separators)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return f"{value.year}年{value.month}月{value.day}日"
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, (int, float)):
        fmt = number_format or "General"
        decimals = _decimals(fmt)
        if "%" in fmt:
            return f"{value * 100:.{decimals or 0}f}%"
        comma = "," if "#,##" in fmt else ""
        if decimals is not None and fmt != "General":
            return f"{value:{comma}.{decimals}f}"
        if isinstance(value, float) and value.is_integer():
            return f"{int(value):{comma}d}"
        if isinstance(value, float):
            return f"{value:{comma}.2f}".rstrip("0").rstrip(".")
        return f"{value:{comma}d}"
    return str(value).strip()


def headline_table(report_path: str | Path) -> tuple[str, list[list[str]]]:
    """(sheet name, rows) of the report's headline sheet: its non-empty rows, as displayed.

    The sheet is ``总体情况`` when present, else the first sheet. Empty rows and trailing
    empty columns are dropped; at most 60 rows and 12 columns are kept (a headline table is
    short, the workbook holds the rest). Formulas show their saved result (blank when the
    file was never opened in Excel).
    """
    from openpyxl import load_workbook

    path = Path(report_path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise XfsheetsError(f"无法打开报表：{exc}", file=path,
                            hint="请确认这是完好的 .xlsx 工作簿（xfsheets report 生成的汇总报表）") from exc
    try:
        name = HEADLINE_SHEET if HEADLINE_SHEET in wb.sheetnames else wb.sheetnames[0]
        ws = wb[name]
        rows: list[list[str]] = []
        for row in ws.iter_rows(max_col=MAX_COLS):
            texts = [_display(c.value, getattr(c, "number_format", "General")) for c in row]
            if any(texts):
                rows.append(texts)
            if len(rows) >= MAX_ROWS:
                break
    finally:
        wb.close()
    width = max((max((i + 1 for i, t in enumerate(r) if t), default=0) for r in rows), default=0)
    first = min((next(i for i, t in enumerate(r) if t) for r in rows), default=0)
    return name, [r[first:width] + [""] * (width - len(r)) for r in rows]


def _plain_table(rows: list[list[str]]) -> str:
    lines = []
    for r in rows:
        cells = [c for c in r]
        while cells and not cells[-1]:
            cells.pop()
        lines.append("    ".join(cells) if len([c for c in cells if c]) > 1 else "".join(cells))
    return "\n".join(lines)


def _html_table(rows: list[list[str]]) -> str:
    width = max((len(r) for r in rows), default=0)
    out = ['<table cellpadding="4" cellspacing="0" border="1" '
           'style="border-collapse:collapse;font-size:14px;font-family:SimSun,\'Microsoft YaHei\',sans-serif">']
    for r in rows:
        filled = [c for c in r if c]
        if len(filled) == 1 and r[0] and width > 1:  # a title or a paragraph across the table
            out.append(f'<tr><td colspan="{width}"><b>{html.escape(r[0])}</b></td></tr>'
                       if len(r[0]) <= 30 else f'<tr><td colspan="{width}">{html.escape(r[0])}</td></tr>')
            continue
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


# --- building the message -----------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_ADDRESS_HINT = ("请写成 name@example.gov.cn 或 姓名 <name@example.gov.cn>；"
                 "几个地址之间用逗号或分号隔开，每个地址只写一次")


def _shown(text: str) -> str:
    """A value with its line breaks and control characters made visible (\\n, \\r, \\t)."""
    return _CONTROL.sub(lambda m: {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(m.group(0), "?"), text)


def _one_line(text: str, what: str, hint: str) -> str:
    """``text`` for a mail header: refused (exit 2) when it holds a line break or a control
    character, which would end the header and start another (a hidden Bcc, say)."""
    if _CONTROL.search(text):
        raise ConfigError(f"{what}「{_shown(text)}」中有换行符或控制字符，邮件头只能是一行文字，邮件未生成", hint=hint)
    return text


def _addresses(values: Iterable[str], what: str) -> list[str]:
    """Each address exactly as one mailbox, parsed strictly (email.headerregistry): anything the
    parser finds a defect in, two addresses run together, or a line break is refused (exit 2)
    naming the address, so the envelope recipients are exactly the ones the clerk wrote."""
    from email.policy import default as strict_policy

    out = []
    for value in values:
        value = _one_line(str(value), f"{what}地址", _ADDRESS_HINT)
        for part in re.split(r"[;；,，]\s*(?![^<]*>)", value):
            part = part.strip()
            if not part:
                continue
            try:
                header = strict_policy.header_factory("To", part)
                mailboxes = list(header.addresses)
                defects = list(header.defects)
            except (ValueError, IndexError, TypeError):  # the parser's own failures on odd text
                mailboxes, defects = [], ["unparsable"]
            if (defects or len(mailboxes) != 1) and part.count("@") > 1:
                raise ConfigError(f"{what}地址「{part}」像是两个地址连在了一起（中间漏了逗号或分号），"
                                  "无法确定发给谁", hint=_ADDRESS_HINT)
            if defects or len(mailboxes) != 1:
                raise ConfigError(f"{what}地址「{part}」不是有效的邮箱地址", hint=_ADDRESS_HINT)
            name, addr = mailboxes[0].display_name, mailboxes[0].addr_spec
            if not _ADDRESS.match(addr or ""):
                raise ConfigError(f"{what}地址「{part}」不是有效的邮箱地址", hint=_ADDRESS_HINT)
            if "@" in name:
                raise ConfigError(f"{what}地址「{part}」的姓名部分也像邮箱地址，无法确定发给谁", hint=_ADDRESS_HINT)
            out.append(str(Address(display_name=name, addr_spec=addr)) if name else addr)
    return out


def _encoded_words(text: str, limit: int = 36) -> list[str]:
    """RFC 2047 base64 encoded-words, each under the 75-character limit, split on characters."""
    words, chunk = [], ""
    for ch in text:
        if len((chunk + ch).encode("utf-8")) > limit:
            words.append(chunk)
            chunk = ch
        else:
            chunk += ch
    if chunk:
        words.append(chunk)
    return ["=?utf-8?B?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words]


def _attach(msg: EmailMessage, data: bytes, filename: str) -> None:
    maintype, subtype = XLSM_TYPE if filename.lower().endswith(".xlsm") else XLSX_TYPE
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    part = list(msg.iter_attachments())[-1]
    if filename.isascii():
        return
    # Add name="=?utf-8?B?...?=" to Content-Type for clients that ignore RFC 2231. Set raw and
    # pre-folded (each line under 78 characters): letting the email package refold this header
    # would RFC 2047-encode the long MIME type itself.
    words = _encoded_words(filename)
    value = f"\n {maintype}/{subtype};\n name=\"" + "\n ".join(words) + '"'
    del part["Content-Type"]
    part.set_raw("Content-Type", value)


def build_message(
    report_path: str | Path,
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str | None = None,
    sender: str | None = None,
    include_personal_data: bool = False,
) -> EmailMessage:
    """The email carrying ``report_path``: headline table in the body, the workbook attached.

    Unless ``include_personal_data``, the attached workbook is a masked copy and the body is
    read from it, so no identity number or phone leaves; the file on disk is not changed.
    ``to`` may be empty (an .eml draft the clerk addresses in their own client).
    """
    from xfsheets.privacy import PersonalDataError, check_bytes, check_texts, mask_text, mask_workbook

    path = Path(report_path)
    if not path.is_file():
        raise XfsheetsError("报表文件不存在", file=path, hint="请先用 xfsheets report 生成报表，或检查路径")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise XfsheetsError("只能发送 .xlsx/.xlsm 工作簿", file=path,
                            hint="旧的 .xls 请先在 Excel/WPS 中另存为 .xlsx")
    _one_line(path.name, "报表文件名", "请把报表文件改名（名称中不要有换行），再发送")
    if subject is not None:
        _one_line(subject, "邮件主题（--subject）", "请把主题写成一行文字")
    to_list = _addresses(to, "收件人")
    cc_list = _addresses(cc, "抄送")
    from_list = _addresses([sender], "发件人") if sender else []

    if include_personal_data:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise XfsheetsError(f"无法读取报表：{exc.strerror}", file=path,
                                hint="文件可能正在 Excel/WPS 中打开，请关闭后重试") from exc
        sheet, rows = headline_table(path)
        filename = path.name
    else:
        filename = mask_text(path.name)
        with tempfile.TemporaryDirectory(prefix="xfsheets-mail-") as tmp:
            masked = Path(tmp) / "attachment.xlsx"
            try:
                mask_workbook(path, masked)  # refuses itself if anything is left in the copy
            except PersonalDataError as exc:
                raise PersonalDataError(f"附件{exc.message}", file=path, hint=exc.hint) from exc
            data = masked.read_bytes()
            sheet, rows = headline_table(masked)
        check_bytes(data, what="邮件附件", file=path)  # the very bytes that will be attached
        subject = mask_text(subject) if subject else subject

    msg = EmailMessage(policy=policy.SMTP)
    stem = filename.rsplit(".", 1)[0]
    msg["Subject"] = subject.strip() if subject and subject.strip() else f"报送：{stem}"
    if from_list:
        msg["From"] = from_list[0]
    if to_list:
        msg["To"] = ", ".join(to_list)
    if cc_list:
        msg["Cc"] = ", ".join(cc_list)
    msg["Date"] = formatdate(localtime=True)
    domain = from_list[0].rsplit("@", 1)[-1].rstrip(">") if from_list else "xfsheets.local"
    msg["Message-ID"] = make_msgid(domain=domain)

    privacy_note = ("注意：附件含未脱敏的个人信息（身份证号、联系电话），请妥善保管，不得转发。"
                    if include_personal_data else "附件中的身份证号、联系电话已做脱敏处理。")
    intro = f"附件为《{filename}》，{sheet}如下："
    today = dt.date.today()
    footer = f"本邮件由 xfsheets 于 {today.year}年{today.month}月{today.day}日生成。"
    plain = "\n".join(["您好！", "", intro, "", _plain_table(rows), "", privacy_note, "", footer, ""])
    html_body = (
        "<html><body>"
        f"<p>您好！</p><p>{html.escape(intro)}</p>"
        f"{_html_table(rows)}"
        f"<p>{html.escape(privacy_note)}</p>"
        f'<p style="color:#888">{html.escape(footer)}</p>'
        "</body></html>"
    )
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html_body, subtype="html", charset="utf-8", cte="base64")
    if not include_personal_data:
        check_texts({"邮件主题": str(msg["Subject"]), "邮件正文（纯文本）": plain, "邮件正文（HTML）": html_body,
                     "附件文件名": filename}, what="邮件", file=path)
    _attach(msg, data, filename)
    return msg


# --- delivering it ------------------------------------------------------------------

def _server_text(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{exc.smtp_code} {text}".strip()


TLS_HINT = ("请改用加密连接：--ssl（通常 465 端口，如 --smtp smtp.example.gov.cn:465 --ssl）或 --starttls"
            "（通常 587 端口），或在 xfsheets.toml 的 [smtp] 中写 security = \"ssl\"（或 \"starttls\"）和相应的 port；"
            "邮箱服务器的地址、端口和加密方式见邮箱的“客户端设置/SMTP 设置”说明，或询问单位信息中心")


def _login(server: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with exactly one AUTH exchange; a refusal is final (no second try with another
    mechanism, as ``smtplib.SMTP.login`` would make).

    PLAIN is preferred (RFC 4616, UTF-8, so a Chinese password works), then LOGIN, then
    CRAM-MD5 for servers that offer nothing else.
    """
    server.ehlo_or_helo_if_needed()
    if not server.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = server.esmtp_features["auth"].upper().split()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    if "PLAIN" in offered:
        code, resp = server.docmd("AUTH", "PLAIN " + b64(f"\0{user}\0{password}"))
    elif "LOGIN" in offered:
        code, resp = server.docmd("AUTH", "LOGIN " + b64(user))
        if code == 334:
            code, resp = server.docmd(b64(password))
    elif "CRAM-MD5" in offered and (user + password).isascii():
        server.user, server.password = user, password
        code, resp = server.auth("CRAM-MD5", server.auth_cram_md5)
        return
    else:
        raise smtplib.SMTPAuthenticationError(504, "服务器不支持本程序可用的登录方式（PLAIN、LOGIN）")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def tls_context(cafile: str | Path | None = None) -> ssl.SSLContext:
    """The TLS settings for the mail server: certificates and host names always verified,
    against the system's authorities plus ``cafile`` (a unit's own CA, PEM) when given."""
    context = ssl.create_default_context()
    if cafile is not None:
        try:
            context.load_verify_locations(cafile=str(cafile))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"无法读取证书文件「{cafile}」：{exc}",
                              hint="cafile 应为 PEM 格式的单位根证书（以 -----BEGIN CERTIFICATE----- 开头）") from exc
    return context


def send_message(
    msg: EmailMessage,
    *,
    host: str,
    port: int | None = None,
    security: str | None = None,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 30,
    ssl_context: ssl.SSLContext | None = None,
    cafile: str | Path | None = None,
) -> None:
    """Send ``msg`` through the SMTP server ``host:port``.

    ``security``: None (plain, port 25), ``"starttls"`` (587) or ``"ssl"`` (465). Logs in
    when ``user`` is given (``password`` required), and only over TLS: ``user`` without
    ``security`` is refused before connecting. One login attempt, never a second. The
    server's certificate is verified (``ssl_context``, or the system's authorities plus
    ``cafile``). Every failure raises :class:`MailError` (exit code 1) naming the server
    and saying how to fix it; a partial refusal (some recipients rejected) raises too,
    after the others got the message.
    """
    if security not in (None, "starttls", "ssl"):
        raise ConfigError(f"加密方式「{security}」无效", hint="只能是 ssl、starttls，或不加密")
    if user and security is None:
        raise ConfigError(f"为保护邮箱密码，不在未加密的连接上登录（用户「{user}」），邮件未发送", hint=TLS_HINT)
    if not msg.get("From"):
        raise ConfigError("未指定发件人", hint="请用 --from 指定，或在 xfsheets.toml 的 [smtp] 中写 sender 或 user")
    if not (msg.get("To") or msg.get("Cc")):
        raise ConfigError("未指定收件人", hint="请用 --to 指定收件人")
    if user and not password:
        raise ConfigError(f"未找到 SMTP 用户「{user}」的密码",
                          hint="请设置环境变量 XFSHEETS_SMTP_PASSWORD，或用 keyring set xfsheets <用户名> 存入系统钥匙串")
    port = port or {"ssl": 465, "starttls": 587}.get(security or "", 25)
    where = f"邮件服务器 {host}:{port}"
    context = ssl_context or tls_context(cafile)
    server: smtplib.SMTP | None = None
    step = "连接"
    try:
        if security == "ssl":
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            step = "建立 STARTTLS 加密"
            server.ehlo()
            server.starttls(context=context)
            server.ehlo()
        if user:
            step = "登录"
            _login(server, user, password or "")
        step = "发送"
        refused = server.send_message(msg)
    except ConnectionRefusedError as exc:
        raise MailError(f"无法连接{where}：连接被拒绝",
                        hint="请检查服务器地址和端口是否正确（常见：465 用 --ssl，587 用 --starttls，25 不加密），"
                             "以及本机网络和防火墙") from exc
    except socket.gaierror as exc:
        raise MailError(f"找不到{where}（域名无法解析）", hint="请检查 --smtp 中的服务器地址和网络连接") from exc
    except (TimeoutError, socket.timeout) as exc:
        raise MailError(f"{step}{where}超时（{timeout:g} 秒无响应）",
                        hint="请检查网络，或确认端口与加密方式匹配（465 用 --ssl，587 用 --starttls）") from exc
    except ssl.SSLError as exc:
        raise MailError(f"与{where}建立加密连接（TLS）失败：{exc.reason or exc}",
                        hint="请确认端口与加密方式匹配（465 用 --ssl，587 用 --starttls）；"
                             "若提示证书不受信任（CERTIFICATE_VERIFY_FAILED），请向单位信息中心索取邮件服务器的根证书，"
                             "在 xfsheets.toml 的 [smtp] 中写 cafile = \"根证书.pem 的路径\"") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{where}拒绝登录：用户名或密码错误（{_server_text(exc)}）",
                        hint="请检查 --user；密码取自环境变量 XFSHEETS_SMTP_PASSWORD 或系统钥匙串；"
                             "许多邮箱须使用“客户端授权码”而非网页登录密码") from exc
    except smtplib.SMTPNotSupportedError as exc:
        what = "STARTTLS 加密" if step.startswith("建立") else "登录（AUTH）"
        raise MailError(f"{where}不支持{what}",
                        hint="请换用 --ssl（通常 465 端口）或 --starttls（通常 587 端口），或询问邮箱管理员") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = {k: _server_text(smtplib.SMTPResponseException(*v)) for k, v in exc.recipients.items()}
        listing = "；".join(f"{k}（{v}）" for k, v in refused.items())
        raise MailError(f"{where}拒收全部收件人，邮件未发出：{listing}",
                        hint="请检查收件人地址是否写错，或该服务器是否允许发往这些地址") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"{where}拒绝发件人地址「{exc.sender}」（{_server_text(exc)}）",
                        hint="发件人（--from）一般须与登录用户（--user）为同一邮箱") from exc
    except smtplib.SMTPDataError as exc:
        raise MailError(f"{where}拒收邮件内容（{_server_text(exc)}）",
                        hint="可能是附件过大或被判为垃圾邮件，请联系邮箱管理员") from exc
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, (TimeoutError, socket.timeout)):  # smtplib wraps read timeouts
            raise MailError(f"{step}{where}超时（{timeout:g} 秒无响应）",
                            hint="请检查网络，或确认端口与加密方式匹配（465 用 --ssl，587 用 --starttls）") from exc
        raise MailError(f"{where}在{step}时断开了连接",
                        hint="请确认端口与加密方式匹配（465 用 --ssl，587 用 --starttls）") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{where}在{step}时返回错误（{_server_text(exc)}）",
                        hint="请把这条信息告诉邮箱管理员") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{step}{where}失败：{exc}", hint="请检查服务器地址、端口和网络") from exc
    finally:
        if server is not None:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()
    if refused:
        listing = "；".join(f"{k}（{_server_text(smtplib.SMTPResponseException(*v))}）" for k, v in refused.items())
        raise MailError(f"邮件已发给其他收件人，但{where}拒收：{listing}",
                        hint="请检查这些地址，单独补发")


def write_eml(msg: EmailMessage, path: str | Path, *, draft: bool = True) -> Path:
    """Write ``msg`` to an ``.eml`` file atomically (CRLF line ends, as RFC 5322 wants).

    With ``draft`` the header ``X-Unsent: 1`` is added, so Outlook opens the file as a
    message ready to address and send. ``msg`` itself is not changed.
    """
    from xfsheets.outputs import EML_MARK_HEADER, mark_value
    from xfsheets.writer import atomic_path

    path = Path(path)
    out = copy.deepcopy(msg)
    if draft and "X-Unsent" not in out:
        out["X-Unsent"] = "1"
    del out[EML_MARK_HEADER]
    out[EML_MARK_HEADER] = mark_value()  # so a re-run may replace this file, and only this kind
    data = out.as_bytes(policy=out.policy.clone(linesep="\r\n"))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
