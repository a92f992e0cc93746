"""Reading real fixture ledgers (tests/data/reader, made by tests/data/make_reader.py)."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA, digest
from xfsheets.cli import main
from xfsheets.errors import EncryptedWorkbookError, LedgerReadError
from xfsheets.reader import ledger_from_rows, read_ledger, read_ledgers
from xfsheets.schema import DATE_FIELDS, FIELD_NAMES, load_profile

R = DATA / "reader"


def test_simple_ledger_maps_every_labelled_column():
    ledger = read_ledger(R / "simple.xlsx")
    src = ledger.sources[0]
    assert src.sheet == "台账" and src.header_rows == [1]
    assert {c.letter: c.field for c in src.columns} == {
        "A": None, "B": "case_id", "C": "received_on", "D": "petitioner", "E": "phone",
        "F": "summary", "G": "unit", "H": "status"}
    assert ledger.frame["case_id"].tolist() == ["X2026-001", "X2026-002", "X2026-003"]
    assert ledger.frame["_row"].tolist() == [2, 3, 4]
    assert ledger.frame["received_on"].dt.date.tolist() == [dt.date(2026, 3, 2), dt.date(2026, 3, 5), dt.date(2026, 3, 9)]
    assert ledger.frame["phone"].tolist() == ["13812345678", "13912345678", "0773-1234567"]
    # every canonical field exists, with the contract's dtypes
    assert set(FIELD_NAMES) <= set(ledger.frame.columns)
    for f in DATE_FIELDS:
        assert str(ledger.frame[f].dtype) == "datetime64[ns]"
    assert str(ledger.frame["headcount"].dtype) == "Int64"
    assert ledger.has("summary") and not ledger.has("id_number")


def test_title_rows_are_skipped_and_kept_as_metadata():
    ledger = read_ledger(R / "title_rows.xlsx")
    src = ledger.sources[0]
    assert src.header_rows == [3]
    assert ledger.frame["_row"].tolist() == [4, 5, 6]
    assert src.meta["填报单位"] == "XX县信访局"
    assert src.meta["填报日期"] == "2026年3月10日"


def test_merged_two_row_header():
    ledger = read_ledger(R / "two_row_header.xlsx")
    src = ledger.sources[0]
    assert src.header_rows == [2, 3]
    fields = {c.letter: c.field for c in src.columns}
    assert fields["D"] == "petitioner" and fields["E"] == "id_number" and fields["F"] == "phone"
    assert fields["B"] == "case_id" and fields["I"] == "status"
    assert [c.label for c in src.columns][3:6] == ["信访人/姓名", "信访人/身份证号码", "信访人/联系电话"]
    assert ledger.frame["petitioner"].tolist() == ["赵六", "钱七"]
    assert ledger.frame["id_number"].tolist() == ["450324199001011234", "11010519491231002X"]
    assert ledger.frame["_row"].tolist() == [4, 5]


def test_every_date_form_people_type():
    from tests_data_reader import DATE_FORMS

    ledger = read_ledger(R / "date_forms.xlsx")
    got = ledger.frame["received_on"]
    for i, (typed, expected, note) in enumerate(DATE_FORMS):
        value = None if pd.isna(got[i]) else got[i].date().isoformat()
        assert value == expected, f"row {i + 2} ({note}): {typed!r} -> {value}"
        # the value as typed is never lost
        raw = ledger.raw.at[i, "received_on"]
        assert raw is not None


def test_label_variants_line_breaks_spaces_fullwidth_synonyms():
    src = read_ledger(R / "label_variants.xlsx").sources[0]
    assert [c.field for c in src.columns] == [None, "case_id", "received_on", "petitioner", "phone", "summary",
                                              "unit", "status"]


def test_blank_total_and_footer_rows_are_accounted_for():
    ledger = read_ledger(R / "blank_and_total_rows.xlsx")
    assert ledger.frame["case_id"].tolist() == ["X2026-001", "X2026-002", "X2026-003"]
    assert ledger.frame["_row"].tolist() == [2, 4, 6]
    assert ledger.sources[0].skipped == [(3, "空行"), (5, "空行"), (7, "合计行"), (8, "空行"), (9, "表尾说明")]


def test_ledger_on_second_sheet_after_instructions():
    ledger = read_ledger(R / "second_sheet.xlsx")
    assert ledger.sources[0].sheet == "台账" and len(ledger) == 3


def test_unmapped_columns_are_kept_and_reported():
    ledger = read_ledger(R / "unmapped_columns.xlsx")
    unmapped = [c.label for c in ledger.sources[0].unmapped]
    assert unmapped == ["序号", "是否重点", "化解措施", "", "序号"]
    assert ledger.frame["是否重点"].tolist() == ["是", "是", "是"]
    assert ledger.frame["序号_2"].tolist() == ["x", "x", "x"]
    assert "是否重点" in ledger.extra_columns


def test_two_columns_for_one_field_is_an_error_naming_both():
    with pytest.raises(LedgerReadError) as err:
        read_ledger(R / "duplicate_field.xlsx")
    text = str(err.value)
    assert "A 列「编号」" in text and "B 列「信访件编号」" in text and "duplicate_field.xlsx" in text


def test_profile_resolves_the_duplicate(tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('[labels]\n"编号" = "-"\n', encoding="utf-8")
    ledger = read_ledger(R / "duplicate_field.xlsx", profile=load_profile(profile))
    assert ledger.frame["case_id"].tolist() == ["X-1"]
    assert ledger.frame["编号"].tolist() == ["1"]


def test_profile_labels_sheet_and_header_rows(tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('sheet = "信访台账"\nheader_rows = [3]\n[labels]\n"反映问题" = "notes"\n', encoding="utf-8")
    ledger = read_ledger(R / "title_rows.xlsx", profile=load_profile(profile))
    assert ledger.sources[0].letter("notes") == "F"
    assert ledger.frame["notes"].tolist()[0] == "反映拖欠工资"


@pytest.mark.parametrize("text,needle", [
    ('[labels]\n"来件" = "no_such_field"\n', "no_such_field"),
    ("header_rows = [0]\n", "header_rows"),
    ("colour = 1\n", "colour"),
    ("[labels\n", "格式有误"),
])
def test_bad_profile_says_what_and_where(tmp_path, text, needle):
    from xfsheets.errors import ConfigError

    profile = tmp_path / "bad.toml"
    profile.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_profile(profile)
    assert needle in str(err.value) and "bad.toml" in str(err.value)


def test_empty_ledger_has_zero_rows():
    ledger = read_ledger(R / "empty_ledger.xlsx")
    assert len(ledger) == 0 and ledger.sources[0].header_rows == [2]
    assert set(FIELD_NAMES) <= set(ledger.frame.columns)


def test_legacy_xls():
    ledger = read_ledger(R / "legacy.xls")
    assert ledger.frame["case_id"].tolist() == ["X2026-001", "X2026-002", "X2026-003"]
    assert ledger.frame["received_on"].iloc[0].date() == dt.date(2026, 3, 2)


def test_encrypted_needs_the_password():
    with pytest.raises(EncryptedWorkbookError, match="加密"):
        read_ledger(R / "encrypted.xlsx")
    with pytest.raises(EncryptedWorkbookError, match="密码不正确"):
        read_ledger(R / "encrypted.xlsx", password="wrong")
    ledger = read_ledger(R / "encrypted.xlsx", password="xf2026")
    assert len(ledger) == 3


@pytest.mark.parametrize("name,needle", [
    ("corrupt.xlsx", "损坏"),
    ("not_a_workbook.xlsx", "不是有效的 Excel 工作簿"),
    ("no_ledger.xlsx", "找不到台账表头"),
    ("missing.xlsx", "找不到文件"),
])
def test_bad_input_is_a_clear_chinese_message(name, needle):
    with pytest.raises(LedgerReadError) as err:
        read_ledger(R / name)
    assert needle in str(err.value) and name in str(err.value)


def test_reading_never_modifies_the_input(tmp_path):
    for name in ("simple.xlsx", "two_row_header.xlsx", "legacy.xls", "encrypted.xlsx"):
        copy = tmp_path / name
        shutil.copy(R / name, copy)
        before, mtime = digest(copy), copy.stat().st_mtime_ns
        read_ledger(copy, password="xf2026" if "encrypted" in name else None)
        assert digest(copy) == before and copy.stat().st_mtime_ns == mtime


def test_read_ledgers_keeps_each_rows_provenance():
    ledger = read_ledgers([R / "simple.xlsx", R / "two_row_header.xlsx"])
    assert len(ledger) == 5 and len(ledger.sources) == 2
    assert ledger.frame["_source"].tolist() == [0, 0, 0, 1, 1]
    assert ledger.letters("phone").tolist() == ["E", "E", "E", "F", "F"]
    assert ledger.frame["_file"].str.endswith("two_row_header.xlsx").tolist() == [False] * 3 + [True] * 2


def test_ledger_from_rows_as_the_excel_buttons_send_them():
    rows = [["信访事项台账", None, None, None], ["信访件编号", "登记日期", "信访人", "反映问题"],
            ["A-1", dt.datetime(2026, 5, 6), "张三", "问题"], [None, None, None, None],
            ["A-2", "2026年5月7日", "李四", "问题二"]]
    ledger = ledger_from_rows(rows, file="台账.xlsx", sheet="Sheet1")
    assert ledger.frame["_row"].tolist() == [3, 5]
    assert ledger.frame["received_on"].dt.day.tolist() == [6, 7]


# --- CLI -----------------------------------------------------------------------------

def test_inspect_json_describes_what_was_understood():
    result = CliRunner().invoke(main, ["inspect", str(R / "two_row_header.xlsx"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    f = doc["files"][0]
    assert f["header_rows"] == [2, 3] and f["rows"] == 2
    assert {"column": "E", "label": "信访人/身份证号码", "field": "id_number", "field_label": "身份证号"} in f["columns"]
    assert f["first_rows"][0]["row"] == 4 and f["first_rows"][0]["values"]["信访人/姓名"] == "赵六"


def test_inspect_text_shows_the_mapping():
    result = CliRunner().invoke(main, ["inspect", str(R / "unmapped_columns.xlsx")])
    assert result.exit_code == 0
    assert "未识别（保留原样）" in result.output and "是否重点" in result.output


def test_inspect_bad_file_exit_2_without_traceback():
    result = CliRunner().invoke(main, ["inspect", str(R / "corrupt.xlsx")])
    assert result.exit_code == 2
    assert "错误：" in result.stderr and "损坏" in result.stderr and "Traceback" not in result.output


def test_inspect_batch_with_one_bad_file_exits_1():
    result = CliRunner().invoke(main, ["inspect", str(R / "simple.xlsx"), str(R / "corrupt.xlsx"), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert len(doc["files"]) == 1 and "corrupt.xlsx" in doc["errors"][0]["file"]
    assert doc["errors"][0]["code"] == "ledger_unreadable" and doc["errors"][0]["message"]  # errors as data


def test_inspect_password_option():
    result = CliRunner().invoke(main, ["inspect", str(R / "encrypted.xlsx"), "--password", "xf2026", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["files"][0]["rows"] == 3


def test_verbose_shows_the_traceback():
    result = CliRunner().invoke(main, ["-v", "inspect", str(R / "corrupt.xlsx")])
    assert result.exit_code != 0 and isinstance(result.exception, LedgerReadError)


def test_merged_value_fills_the_rows_it_spans_but_never_makes_a_row():
    rows = [["信访件编号", "登记日期", "信访人", "责任单位"],
            ["A-1", dt.datetime(2026, 5, 6), "张三", "城关镇"],
            ["A-2", dt.datetime(2026, 5, 7), "李四", ""],
            ["", "", "", ""],  # a blank row under the same merged unit: still blank
            ["A-3", dt.datetime(2026, 5, 8), "王五", "县人社局"]]
    ledger = ledger_from_rows(rows, file="台账.xlsx", sheet="Sheet1", merges=[((1, 3), (3, 3)), ((0, 0), (0, 1))])
    assert ledger.frame["_row"].tolist() == [2, 3, 5]
    assert ledger.frame["unit"].tolist() == ["城关镇", "城关镇", "县人社局"]
    assert ledger.sources[0].skipped == [(4, "空行")]
    (merged,) = ledger.sources[0].merged  # the header merge is not a data-area merge
    assert (merged.ref, merged.filled, merged.field) == ("D2:D4", True, "unit")
