"""A structural check of an OOXML workbook package, for what xfsheets writes (issue 15).

Independent of the code under test: every XML part is well-formed (lxml), every worksheet's
children follow the CT_Worksheet sequence (ECMA-376 Part 1), every internal relationship
target exists, every content-type override names a part and every part has a content type,
every <sheet> of the workbook has its relationship, and <dataValidations count> is right.
``audit()`` adds the strict validator from PyPI (openxml-audit) when it is installed.
"""
from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
# ECMA-376 Part 1 (5th ed.), section A.2, complexType CT_Worksheet, in sequence order.
CT_WORKSHEET = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
                "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
                "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
                "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
                "extLst")
# Only once in the sequence (conditionalFormatting may repeat).
ONCE = set(CT_WORKSHEET) - {"conditionalFormatting"}


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def problems(path: str | Path) -> list[str]:
    """Everything wrong with the package at ``path`` (an empty list: it passes)."""
    out: list[str] = []
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    trees = {}
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")) or name == "[Content_Types].xml":
            try:
                trees[name] = etree.fromstring(data)
            except etree.XMLSyntaxError as exc:
                out.append(f"{name}: not well-formed: {exc}")
    types = trees.get("[Content_Types].xml")
    if types is None:
        return out + ["[Content_Types].xml missing or broken"]
    defaults = {d.get("Extension").lower() for d in types.findall(f"{{{CT}}}Default")}
    overrides = {o.get("PartName").lstrip("/") for o in types.findall(f"{{{CT}}}Override")}
    for part in sorted(overrides - set(parts)):
        out.append(f"[Content_Types].xml: override for missing part {part}")
    for name in parts:
        if name != "[Content_Types].xml" and name not in overrides and name.rsplit(".", 1)[-1].lower() not in defaults:
            out.append(f"{name}: no content type")
    for name, tree in trees.items():
        if not name.endswith(".rels"):
            continue
        source = name.replace("_rels/", "")[: -len(".rels")]
        for rel in tree:
            if rel.get("TargetMode") == "External":
                continue
            target = _resolve(source, rel.get("Target"))
            if target not in parts:
                out.append(f"{name}: {rel.get('Id')} -> missing {target}")
    workbook = trees.get("xl/workbook.xml")
    wb_rels = {r.get("Id") for r in trees.get("xl/_rels/workbook.xml.rels", [])}
    if workbook is not None:
        names = []
        for sheet in workbook.iter(f"{{{MAIN}}}sheet"):
            names.append(sheet.get("name"))
            if sheet.get(f"{{{REL}}}id") not in wb_rels:
                out.append(f"xl/workbook.xml: sheet {sheet.get('name')} has no relationship")
        if len(names) != len(set(names)):
            out.append(f"xl/workbook.xml: duplicate sheet names {names}")
    for name, tree in trees.items():
        if etree.QName(tree).localname != "worksheet":
            continue
        seen = [etree.QName(c).localname for c in tree if isinstance(c.tag, str) and etree.QName(c).namespace == MAIN]
        ranks = [CT_WORKSHEET.index(s) for s in seen if s in CT_WORKSHEET]
        if ranks != sorted(ranks):
            out.append(f"{name}: children out of CT_Worksheet order: {seen}")
        for s in ONCE:
            if seen.count(s) > 1:
                out.append(f"{name}: {s} appears {seen.count(s)} times")
        for dvs in tree.findall(f"{{{MAIN}}}dataValidations"):
            if dvs.get("count") is not None and int(dvs.get("count")) != len(dvs):
                out.append(f"{name}: dataValidations count={dvs.get('count')} but {len(dvs)} rules")
        for dvs in tree.iter(f"{{{MAIN}}}dataValidations"):
            if dvs.getparent() is not tree:
                out.append(f"{name}: <dataValidations> inside {etree.QName(dvs.getparent()).localname}")
    return out


def audit(path: str | Path) -> set[str] | None:
    """The strict validator's errors (openxml-audit), or None when it is not installed."""
    try:
        from openxml_audit import OpenXmlValidator
    except ImportError:
        return None
    result = OpenXmlValidator(max_errors=0).validate(str(path))
    return {str(e) for e in result.errors}
