"""The office's memory (issue 23): snapshots, matching without a stable id, events, the audit chain,
on the embedded SQLite store and on a real PostgreSQL server."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import history_sim as sim_mod
import pg_server
from xfsheets.deadlines import OVERDUE_FLAGS, compute_deadlines
from xfsheets.history import audit, links, queries, record as recorder, store as st
from xfsheets.reader import read_ledger

SAMPLES = Path(__file__).resolve().parents[1] / "xfsheets" / "samples"
EXE = [sys.executable, "-m", "xfsheets"]


@pytest.fixture(scope="module")
def pg_base():
    try:
        with pg_server.server() as url:
            yield url
    except RuntimeError as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path):
    """An empty store: a file in a temporary folder, or a fresh database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / st.STORE_NAME)
    base = request.getfixturevalue("pg_base")
    name = "xf_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def _overdue_planted(sim, path: Path, day: dt.date, before: dict[int, str]) -> dict[int, str]:
    """New overdue flags of the day, by the engine on the sim's own ledger (not through the store)."""
    ledger = read_ledger(path)
    flags = compute_deadlines(ledger, as_of=day)["flag"].tolist()
    by_row = {row: rid for rid, row in sim.layout[day.isoformat()].items()}
    now = {by_row[int(r)]: f for r, f in zip(ledger.frame["_row"], flags)}
    for rid, flag in now.items():
        if flag in OVERDUE_FLAGS and before.get(rid, "") not in OVERDUE_FLAGS and rid in before:
            sim.plant(day, rid, "overdue")
    return now


def test_a_month_of_clerk_edits_is_replayed_exactly(tmp_path, store_target):
    rng = random.Random(20261202)
    first = dt.date(2026, 10, 8)
    sim = sim_mod.start(rng, int(os.environ.get("XFSHEETS_SIM_ROWS", "2000")), first)
    ledger = tmp_path / "信访台账.xlsx"
    flags: dict[int, str] = {}
    days = [first + dt.timedelta(days=i) for i in range(30)]
    for n, day in enumerate(days):
        if n:
            sim_mod.one_day(sim, rng, day)
            if n in (9, 21):
                sim_mod.similar_edit(sim, rng, day)
        sim_mod.write(sim, ledger, day)
        flags = _overdue_planted(sim, ledger, day, flags) if n else _overdue_planted(sim, ledger, day, {})
        recorder.record([ledger], store=store_target, as_of=day)
        if n == 15:  # the weekly report goes upward, built from today's snapshot
            report = tmp_path / "周报.xlsx"
            report.write_bytes(b"report of " + day.isoformat().encode())
            s = st.open_store(store_target)
            audit.log_outputs(s, "report", [report], recipients=["shi@xf.gov.cn"])
            s.engine.dispose()
            sim.reported = set(sim.layout[day.isoformat()])
    s = st.open_store(store_target)
    try:
        found_events = [e.to_dict() for e in queries.changes(s, since=first.isoformat()).events]
    finally:
        s.engine.dispose()
    found = sim_mod.trace(sim, found_events)
    kinds = {"new", "gone", "closed", "overdue", "extended", "case_id_filled", "filled", "corrected", "cleared",
             "changed_after_close", "changed_after_report", "similar", "reopened", "case_id_clash"}
    planted = [p for p in sim.planted if p[0] > first.isoformat()]
    table = sim_mod.compare(planted, found, kinds)
    print(json.dumps(table, ensure_ascii=False))
    assert all(row["wrong"] == 0 for row in table.values()), table
    assert table["similar"]["planted"] == 2 and table["overdue"]["planted"] > 0
    assert table["changed_after_report"]["planted"] > 0 and table["changed_after_close"]["planted"] > 0


def test_unchanged_matters_store_no_new_version(tmp_path):
    target = str(tmp_path / st.STORE_NAME)
    for day in (20, 21):
        recorder.record([SAMPLES / "县人社局台账.xlsx"], store=target, as_of=dt.date(2026, 11, day))
    with sqlite3.connect(target) as db:
        versions = db.execute("select count(*) from versions").fetchone()[0]
        presence = db.execute("select count(*) from presence").fetchone()[0]
    assert versions == 60 and presence == 120


def test_personal_data_is_stored_masked_and_found_by_keyed_hash(tmp_path):
    target = str(tmp_path / st.STORE_NAME)
    recorder.record([SAMPLES / "县人社局台账.xlsx"], store=target, as_of=dt.date(2026, 11, 20))
    ledger = read_ledger(SAMPLES / "县人社局台账.xlsx").frame
    person, ident, phone = (str(ledger[c].iloc[0]) for c in ("petitioner", "id_number", "phone"))
    raw = Path(target).read_bytes()
    for value in (ident, phone, person):
        assert value.encode("utf-8") not in raw, value
    s = st.open_store(target)
    try:
        for asked in (ident, " ".join(ident), phone, person):
            answer = queries.person_history(s, asked)
            assert answer.matters and answer.matters[0].versions[-1]["values"]["id_number"] != ident
        assert not queries.person_history(s, "450324199901011234").matters
    finally:
        s.engine.dispose()


def test_audit_chain_detects_an_edited_report_and_an_edited_log(tmp_path):
    target = str(tmp_path / st.STORE_NAME)
    recorder.record([SAMPLES / "县人社局台账.xlsx"], store=target, as_of=dt.date(2026, 11, 20))
    report = tmp_path / "月报.xlsx"
    report.write_bytes(b"PK...sent bytes")
    s = st.open_store(target)
    audit.log_outputs(s, "mail", [report], recipients=["shi@xf.gov.cn"])
    assert audit.verify(s, report).exit_code == 0
    report.write_bytes(b"PK...edited after sending")
    edited = audit.verify(s, report)
    assert edited.exit_code == 1 and edited.same_name and "改动" in edited.summary()
    s.engine.dispose()
    with sqlite3.connect(target) as db:
        db.execute("update audit set recipients = 'thief@evil.example' where id = 1")
    s = st.open_store(target)
    check = audit.verify(s, report)
    s.engine.dispose()
    assert not check.chain_intact and check.broken_at == 1


def test_link_and_unlink(tmp_path):
    target = str(tmp_path / st.STORE_NAME)
    rng = random.Random(7)
    sim = sim_mod.start(rng, 50, dt.date(2026, 10, 1))
    ledger = tmp_path / "台账.xlsx"
    day = dt.date(2026, 10, 1)
    sim_mod.write(sim, ledger, day)
    recorder.record([ledger], store=target, as_of=day)
    day2 = day + dt.timedelta(days=1)
    rid = sim_mod.similar_edit(sim, rng, day2)
    sim_mod.write(sim, ledger, day2)
    recorder.record([ledger], store=target, as_of=day2)
    s = st.open_store(target)
    try:
        similar = [e for e in queries.changes(s).events if e.kind == "similar"]
        assert len(similar) == 1
        said = links.unlink(s, similar[0].matter)
        assert "另立为事项" in said
        kinds = sorted(e.kind for e in queries.changes(s).events if e.kind in ("new", "gone", "similar"))
        assert kinds == ["gone", "new"]
        new_matter = next(e.matter for e in queries.changes(s).events if e.kind == "new")
        assert "并入" in links.link(s, similar[0].matter, new_matter)
        with pytest.raises(st.HistoryStoreError, match="同一次记录"):
            other = next(e.matter for e in queries.changes(s, since="2026-09-01").events
                         if e.kind == "new" and e.matter != similar[0].matter)
            links.link(s, similar[0].matter, other)
    finally:
        s.engine.dispose()
    assert rid


def test_a_newer_store_a_corrupt_one_and_a_second_writer_are_refused(tmp_path):
    target = str(tmp_path / st.STORE_NAME)
    recorder.record([SAMPLES / "县人社局台账.xlsx"], store=target, as_of=dt.date(2026, 11, 20))
    with sqlite3.connect(target) as db:
        db.execute("update meta set value = '99' where key = 'schema_version'")
    with pytest.raises(st.HistoryStoreError, match="更新版本"):
        st.open_store(target)
    junk = tmp_path / "坏的.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    before = junk.read_bytes()
    with pytest.raises(st.HistoryStoreError, match="不是历史库"):
        recorder.record([SAMPLES / "县人社局台账.xlsx"], store=str(junk))
    assert junk.read_bytes() == before
    good = str(tmp_path / "好的.sqlite")
    recorder.record([SAMPLES / "县人社局台账.xlsx"], store=good, as_of=dt.date(2026, 11, 20))
    Path(good + ".lock").write_text(f"clerk@other-pc pid 1 2026-11-20T09:00:00", encoding="utf-8")
    with pytest.raises(st.HistoryStoreError, match="clerk@other-pc"):
        recorder.record([SAMPLES / "县人社局台账.xlsx"], store=good, as_of=dt.date(2026, 11, 21))
    with sqlite3.connect(good) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "delete"
        assert db.execute("select count(*) from snapshots").fetchone()[0] == 1


def test_an_unreadable_ledger_records_nothing(tmp_path):
    target = str(tmp_path / st.STORE_NAME)
    recorder.record([SAMPLES / "县人社局台账.xlsx"], store=target, as_of=dt.date(2026, 11, 20))
    broken = tmp_path / "坏台账.xlsx"
    broken.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(Exception):
        recorder.record([SAMPLES / "县人社局台账.xlsx", broken], store=target, as_of=dt.date(2026, 11, 21))
    with sqlite3.connect(target) as db:
        assert db.execute("select count(*) from snapshots").fetchone()[0] == 1


def test_commands_end_to_end(tmp_path):
    folder = tmp_path / "台账"
    folder.mkdir()
    shutil.copy(SAMPLES / "县人社局台账.xlsx", folder / "县人社局台账.xlsx")
    run = lambda *a: subprocess.run([*EXE, *map(str, a)], capture_output=True, text=True, cwd=folder)  # noqa: E731
    first = run("history", "record", "县人社局台账.xlsx", "--as-of", "2026-11-20")
    assert first.returncode == 0, first.stderr
    assert (folder / st.STORE_NAME).exists() and "新增 60 件" in first.stdout
    second = run("history", "record", "县人社局台账.xlsx", "--as-of", "2026-11-25", "--json")
    doc = json.loads(second.stdout)
    assert doc["snapshot"] == 2 and doc["unchanged"] == 60
    ch = run("changes", "--json", "-o", tmp_path / "本期变化.xlsx")
    assert ch.returncode == 0, ch.stderr
    changes_doc = json.loads(ch.stdout)
    assert changes_doc["base"]["snapshot"] == 1 and changes_doc["head"]["snapshot"] == 2
    assert (tmp_path / "本期变化.xlsx").exists()
    empty = run("changes", "--since", "上次上报")
    assert empty.returncode == 2 and "还没有上报记录" in empty.stderr and "Traceback" not in empty.stderr
    nowhere = subprocess.run([*EXE, "changes"], capture_output=True, text=True, cwd=tmp_path)
    assert nowhere.returncode == 2 and "没有找到历史库" in nowhere.stderr
    log = run("history", "log", "--json")
    assert log.returncode == 0 and json.loads(log.stdout)["entries"] == []


def test_outputs_that_leave_are_logged_and_commands_record_as_they_run(tmp_path):
    folder = tmp_path / "台账"
    folder.mkdir()
    shutil.copy(SAMPLES / "县人社局台账.xlsx", folder / "县人社局台账.xlsx")
    run = lambda *a: subprocess.run([*EXE, *map(str, a)], capture_output=True, text=True, cwd=folder)  # noqa: E731
    # no store yet: a report is not logged, and no store is made just to log it
    assert run("report", "县人社局台账.xlsx", "-o", "月报0.xlsx", "--as-of", "2026-11-25").returncode == 0
    assert not (folder / st.STORE_NAME).exists()
    done = run("check", "县人社局台账.xlsx", "--record", "--as-of", "2026-11-20")
    assert "已记录第 1 次快照" in done.stdout and (folder / st.STORE_NAME).exists()
    run("deadlines", "县人社局台账.xlsx", "--record", "--as-of", "2026-11-25", "--json")
    assert run("report", "县人社局台账.xlsx", "-o", "月报.xlsx", "--as-of", "2026-11-25").returncode == 0
    mailed = run("mail", "月报.xlsx", "--to", "shi@xf.gov.cn", "--from", "xian@xf.gov.cn", "--eml", "报送.eml")
    assert "已记入发出记录" in mailed.stdout
    log = json.loads(run("history", "log", "--json").stdout)
    assert [(e["kind"], e["name"], e["snapshot"]) for e in log["entries"]] == [
        ("report", "月报.xlsx", 2), ("mail", "月报.xlsx", 2)]
    assert log["entries"][1]["recipients"] == "shi@xf.gov.cn" and log["intact"]
    ok = run("history", "verify", "月报.xlsx")
    assert ok.returncode == 0 and "完全一致" in ok.stdout
    not_sent = run("history", "verify", "月报0.xlsx")
    assert not_sent.returncode == 1 and "没有这个文件" in not_sent.stdout
    since = json.loads(run("changes", "--since", "上次上报", "--json").stdout)
    assert since["base"]["snapshot"] == 2 and since["events"] == []
    import openpyxl

    book = openpyxl.load_workbook(folder / "月报.xlsx", read_only=True)
    assert "本期变化" in book.sheetnames
    page = " ".join(str(c) for row in book["情况报告"].iter_rows(values_only=True) for c in row if c)
    assert "较上次记录（2026年11月20日）新增 0 件、办结" in page
    again = run("report", "县人社局台账.xlsx", "-o", "月报2.xlsx", "--as-of", "2026-11-25")
    assert again.returncode == 0, again.stderr
    page = " ".join(str(c) for row in openpyxl.load_workbook(folder / "月报2.xlsx", read_only=True)["情况报告"]
                    .iter_rows(values_only=True) for c in row if c)
    assert "较上次上报（2026年11月25日）新增 0 件、办结 0 件、新超期 0 件。" in page


def test_the_clerks_settings_name_the_store_and_a_folders_settings_do_not(tmp_path):
    profile = tmp_path / "profile"
    (profile / "xfsheets").mkdir(parents=True)
    (profile / "xfsheets" / "xfsheets.toml").write_text('[history]\nstore = "办公室历史库.sqlite"\n', encoding="utf-8")
    folder = tmp_path / "台账"
    folder.mkdir()
    shutil.copy(SAMPLES / "县人社局台账.xlsx", folder / "县人社局台账.xlsx")
    (folder / "xfsheets.toml").write_text('[history]\nstore = "单位指定.sqlite"\n', encoding="utf-8")
    env = dict(os.environ, XDG_CONFIG_HOME=str(profile), APPDATA=str(profile))
    env.pop("XFSHEETS_CONFIG", None)
    done = subprocess.run([*EXE, "history", "record", "县人社局台账.xlsx", "--as-of", "2026-11-20"],
                          capture_output=True, text=True, cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    assert (profile / "xfsheets" / "办公室历史库.sqlite").exists()
    assert not (folder / "单位指定.sqlite").exists() and not (folder / st.STORE_NAME).exists()


def test_readme_event_table_is_the_catalogue():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- history-events:begin -->")[1].split("<!-- history-events:end -->")[0]
    rows = [line.strip("|").split("|") for line in block.strip().splitlines()[2:]]
    assert [(label.strip(), meaning.strip()) for label, meaning in rows] == [
        (label, meaning) for _, label, meaning in queries.event_kinds_table()]


def test_history_exit_codes(tmp_path):
    """A case the store does not know is exit 1; `history` with neither --case nor --person is exit 2
    (ctx.exit inside the CLI's group reaches the shell)."""
    target = str(tmp_path / st.STORE_NAME)
    recorder.record([SAMPLES / "县人社局台账.xlsx"], store=target, as_of=dt.date(2026, 11, 20))
    unknown = subprocess.run([*EXE, "history", "--case", "不存在的编号", "--store", target], capture_output=True,
                             text=True)
    assert unknown.returncode == 1 and "没有" in unknown.stdout
    bare = subprocess.run([*EXE, "history", "--store", target], capture_output=True, text=True)
    assert bare.returncode == 2 and "--case" in bare.stderr
