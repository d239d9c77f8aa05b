"""Excel workbooks (first sheet) through read_table; the test writes a minimal .xlsx by hand."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from crmclean.errors import InputError
from crmclean.io.readers import read_table

_NS = "http://schemas.openxmlformats.org"
_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{_NS}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_NS}/package/2006/relationships"><Relationship '
    f'Id="rId1" Type="{_NS}/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{_NS}/spreadsheetml/2006/main" xmlns:r="{_NS}/'
    'officeDocument/2006/relationships"><sheets><sheet name="Kunden" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    def cell(r: int, c: int, value: str) -> str:
        return f'<c r="{chr(65 + c)}{r + 1}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'

    body = "".join(
        f'<row r="{r + 1}">' + "".join(cell(r, c, v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows)
    )
    sheet = f'<worksheet xmlns="{_NS}/spreadsheetml/2006/main"><sheetData>{body}</sheetData>'
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in {**_PARTS, "xl/worksheets/sheet1.xml": sheet + "</worksheet>"}.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return path


def test_first_sheet_as_strings(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "k.xlsx", [["id", "plz"], ["1", "01067"], ["2", "10115"]])
    result = read_table(path, id_column="id")
    assert result.info.format == "excel" and result.info.encoding is None
    assert result.frame.rows() == [("1", "1", "01067"), ("2", "2", "10115")]


def test_excel_extension_is_not_trusted_blindly(tmp_path: Path) -> None:
    (tmp_path / "k.xlsx").write_text("id,plz\n1,2\n")
    with pytest.raises(InputError, match=re.escape("k.xlsx: is not an Excel file")):
        read_table(tmp_path / "k.xlsx")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["id", "id"], ["1", "2"]], "column name 'id' appears twice (columns 1 and 2)"),
        ([["id", "", "x"], ["1", "2", "3"]], "column 2 of the header has no name"),
        ([["id", "plz"]], "has no data rows"),
    ],
)
def test_bad_sheets(tmp_path: Path, rows: list[list[str]], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as info:
        read_table(write_xlsx(tmp_path / "k.xlsx", rows))
    assert "cannot be read" not in str(info.value)


def test_null_id_names_the_sheet_row(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "k.xlsx", [["id", "n"], ["1", "a"], ["", "b"]])
    with pytest.raises(InputError, match=r"k.xlsx row 3: id column 'id' is empty"):
        read_table(path, id_column="id")


def test_zip_that_is_no_workbook(tmp_path: Path) -> None:
    (tmp_path / "k.csv").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match=re.escape("k.csv: cannot be read as excel")):
        read_table(tmp_path / "k.csv")
