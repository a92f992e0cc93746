"""Expose the fixture script's tables to the tests (the script is the single source)."""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("make_reader", Path(__file__).parent / "data" / "make_reader.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
DATE_FORMS = _mod.DATE_FORMS
