from __future__ import annotations

import os

# xlwings registers its `remote` engine when it is first imported, and only with a key:
# the button tests use it (PolyForm Noncommercial: testing is a permitted use). Set for
# the test session only; the product itself needs no key.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import hashlib
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def soffice() -> str:
    """The LibreOffice binary, or skip with the reason."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.skip("LibreOffice (soffice) is not installed: .ci/run installs libreoffice-calc-nogui")
    return exe
