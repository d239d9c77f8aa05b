"""read_table: formats, encodings, delimiters, record ids, and every bad input as a clear error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from crmclean.core.standardise.base import DEFAULT_NULL_TOKENS
from crmclean.core.standardise.column_types import apply_types
from crmclean.errors import ExitCode, InputError
from crmclean.io.readers import read_reference_values, read_table


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def error_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(InputError) as info:
        read_table(path, **kwargs)  # type: ignore[arg-type]
    assert info.value.exit_code == ExitCode.UNREADABLE
    return str(info.value)


# --- good input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix", "reported"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("cp1252", b"", "cp1252"),
        ("utf-16", b"", "utf-16"),
    ],
)
def test_encodings_are_detected(
    tmp_path: Path, encoding: str, prefix: bytes, reported: str
) -> None:
    text = "id;name;city\n1;Jürgen Müßig;Köln\n2;Zoë Weiß;Düsseldorf\n"
    path = write(tmp_path / "c.csv", prefix + text.encode(encoding))
    result = read_table(path)
    assert result.info.encoding == reported
    assert result.frame.columns == ["record_id", "id", "name", "city"]
    assert result.frame.get_column("name").to_list() == ["Jürgen Müßig", "Zoë Weiß"]


def test_cp1252_after_a_long_ascii_start_is_still_found(tmp_path: Path) -> None:
    ascii_rows = "".join(f"{i},Berlin\n" for i in range(600_000))  # > the 4 MiB sample
    path = write(
        tmp_path / "c.csv", ("id,city\n" + ascii_rows + "600000,München\n").encode("cp1252")
    )
    result = read_table(path)
    assert result.info.encoding == "cp1252"
    assert result.frame.get_column("city")[-1] == "München"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_sniffed_and_reported(tmp_path: Path, delimiter: str) -> None:
    rows = [["id", "name", "note"], ["1", "Anna", "a, b; c"], ["2", "Ben", "x|y"]]
    body = "".join(
        delimiter.join(f'"{v}"' if delimiter in v else v for v in r) + "\n" for r in rows
    )
    path = write(tmp_path / "c.txt", body)
    result = read_table(path)
    assert result.info.delimiter == delimiter
    assert result.frame.get_column("note").to_list() == ["a, b; c", "x|y"]


def test_given_delimiter_and_encoding_win(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a;b\n1;2\n", "latin-1")
    result = read_table(path, delimiter=",", encoding="latin-1")
    assert result.frame.columns == ["record_id", "a;b"]
    assert result.info.encoding == "iso8859-1"


def test_embedded_newlines_quotes_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'id,note\r\n1,"line one\r\nline two"\r\n2,"say ""hi"""\r\n')
    frame = read_table(path).frame
    assert frame.get_column("note").to_list() == ["line one\r\nline two", 'say "hi"']


def test_leading_zeros_and_plus_signs_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "plz,phone,amount\n01067,+4930123456,007.50\n")
    frame = read_table(path).frame
    assert frame.row(0) == ("1", "01067", "+4930123456", "007.50")
    assert all(dtype == pl.String for dtype in frame.dtypes)


def test_record_id_from_row_numbers_skips_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a,b\n1,2\n\n3,\n\n\n")
    frame = read_table(path).frame
    assert frame.get_column("record_id").to_list() == ["1", "2"]
    assert frame.get_column("b").to_list() == ["2", None]  # an empty field is missing


def test_record_id_from_id_column_duplicates_allowed(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "name,cust_no\nAnna, 0042 \nBen,0042\n")
    frame = read_table(path, id_column="cust_no").frame
    assert frame.columns[0] == "record_id"
    assert frame.get_column("record_id").to_list() == ["0042", "0042"]


def test_types_cast_integer_decimal_boolean(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "n;x;ok;plz\n1;1,5;ja;01067\n-2;2.25;false;\nn/a; ;-;x\n")
    types = {"n": "integer", "x": "decimal", "ok": "boolean", "plz": "postcode"}
    frame, problems = apply_types(read_table(path).frame, types, DEFAULT_NULL_TOKENS)
    assert problems == []
    assert frame.schema["n"] == pl.Int64 and frame.get_column("n").to_list() == [1, -2, None]
    assert frame.get_column("x").to_list() == [1.5, 2.25, None]  # null tokens are missing
    assert frame.get_column("ok").to_list() == [True, False, None]
    assert frame.get_column("plz").to_list() == ["01067", None, "x"]


def test_parquet_ndjson_json_read_as_strings(tmp_path: Path) -> None:
    source = pl.DataFrame({"id": [7, 8], "plz": ["01067", None], "born": [1.5, 2.0]})
    source.write_parquet(tmp_path / "c.parquet")
    source.write_ndjson(tmp_path / "c.ndjson")
    source.write_json(tmp_path / "c.json")
    for name in ("c.parquet", "c.ndjson", "c.json"):
        result = read_table(tmp_path / name, id_column="id")
        assert result.frame.get_column("record_id").to_list() == ["7", "8"], name
        assert result.frame.get_column("plz").to_list() == ["01067", None], name
        assert result.frame.schema["born"] == pl.String, name
    assert read_table(tmp_path / "c.parquet").info.format == "parquet"


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("c.json", '{"id": 1}\n{"id": 2}\n', "ndjson"),
        ("c.json", '[{"id": 1}, {"id": 2}]', "json"),
        ("c.dat", '{"id": 1}\n{"id": 2}\n', "ndjson"),
        ("c.dat", "id\n1\n2\n", "csv"),
    ],
)
def test_json_flavour_and_unknown_extensions_by_content(
    tmp_path: Path, name: str, text: str, fmt: str
) -> None:
    result = read_table(write(tmp_path / name, text))
    assert (result.info.format, result.frame.get_column("id").to_list()) == (fmt, ["1", "2"])


def test_info_fingerprint_and_input_untouched(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a,b\n1,2\n3,4\n")
    before = path.read_bytes()
    info = read_table(path).info
    assert info.sha256 == hashlib.sha256(before).hexdigest()
    assert (info.rows, info.columns, info.size_bytes, info.format) == (2, ("a", "b"), 12, "csv")
    assert info.to_dict()["path"] == str(path)
    assert path.read_bytes() == before


def test_reference_values(tmp_path: Path) -> None:
    path = write(tmp_path / "ref.csv", "code,label\nDE,Germany\nAT,Austria\nDE,again\n,blank\n")
    assert read_reference_values(path, "code") == ["DE", "AT"]
    assert "lacks column(s) the rules need: 'Code'" in error_of_ref(path)


def error_of_ref(path: Path) -> str:
    with pytest.raises(InputError) as info:
        read_reference_values(path, "Code")
    return str(info.value)


# --- bad input --------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.csv").startswith(f"{tmp_path / 'nope.csv'}: file not found")


def test_missing_file_names_the_working_folder_only_for_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An absolute path (a database file resolved next to the rule file) is not read from the
    working folder, so the hint must not send the steward looking there."""
    monkeypatch.chdir(tmp_path)
    for path, says_folder in ((tmp_path / "gone.csv", False), (Path("gone.csv"), True)):
        with pytest.raises(InputError) as info:
            read_table(path)
        assert ("working folder is" in info.value.hint) is says_folder, info.value.hint


def test_directory(tmp_path: Path) -> None:
    assert "is a directory, not a file" in error_of(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    assert "c.csv: is empty (0 bytes)" in error_of(write(tmp_path / "c.csv", b""))


def test_blank_lines_only(tmp_path: Path) -> None:
    assert "is empty (only blank lines)" in error_of(write(tmp_path / "c.csv", "\n\n  \n"))


def test_header_only(tmp_path: Path) -> None:
    assert "c.csv: has a header but no data rows" in error_of(write(tmp_path / "c.csv", "a,b\n"))


def test_duplicate_column_names(tmp_path: Path) -> None:
    message = error_of(write(tmp_path / "c.csv", "id,email,Email ,email\n1,a,b,c\n"))
    assert "column name 'email' appears twice (columns 2 and 4)" in message


def test_blank_column_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path / "c.csv", "id,,name,\n1,2,3,4\n"))
    assert "column 2, 4 of the header has no name" in message


def test_short_row_named_by_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'a,b,c\n1,"two\nlines",3\n\n4,5\n6,7,8\n')
    message = error_of(path)
    assert message.startswith(f"{path}:5: has 2 field(s), the header has 3, comma-separated")


def test_long_row_named_by_line_with_count(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a;b\n1;2\n3;4;5\n6;7\n8;9;10;11\n")
    message = error_of(path)
    assert f"{path}:3: has 3 field(s), the header has 2, semicolon-separated" in message
    assert "1 more such rows" in message


def test_unclosed_quote(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'a,b\n1,2\n"3,4\n5,6\n7,8\n')
    message = error_of(path)
    assert f"{path}:3:" in message and "unclosed quote" in message


def test_mixed_encoding_named_by_line_and_column(tmp_path: Path) -> None:
    good = "id,city\n1,München\n" + "".join(f"{i},Berlin\n" for i in range(2, 400_000))
    path = write(tmp_path / "c.csv", good.encode() + b"400000,K\xf6ln\n")
    message = error_of(path)
    assert f"{path}:400001:9: byte 0xf6 is not valid utf-8 (the file mixes encodings)" in message


def test_binary_with_nul_bytes(tmp_path: Path) -> None:
    message = error_of(write(tmp_path / "c.csv", b"a,b\n1,2\n\x00\x01\x02garbage"))
    assert "c.csv: looks like a binary file, not text (NUL byte at line 3)" in message


def test_binary_without_nul_bytes(tmp_path: Path) -> None:
    garbage = bytes(range(1, 32)) * 400
    assert "looks like binary data, not text" in error_of(write(tmp_path / "c.csv", garbage))


def test_undecodable_single_bytes_are_named_with_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", b"a,b\n\x81\x8d\x9d,x\n" + bytes(range(128, 256)) * 50)
    message = error_of(path)
    assert "c.csv:2:1: byte 0x81 is neither UTF-8 nor Windows/ISO European text" in message


def test_cp1250_text_is_still_read(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "name,city\nDvořák,Plzeň\nŤoková,Žilina\n", "cp1250")
    frame = read_table(path).frame
    assert frame.get_column("name").to_list() == ["Dvořák", "Ťoková"]


def test_parquet_that_is_text(tmp_path: Path) -> None:
    message = error_of(write(tmp_path / "c.parquet", "id,name\n1,Anna\n"))
    assert "c.parquet: is not a Parquet file (it starts like text: 'id,name')" in message


def test_truncated_parquet(tmp_path: Path) -> None:
    pl.DataFrame({"a": list(range(1000))}).write_parquet(tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    message = error_of(write(tmp_path / "c.parquet", data[: len(data) // 2]))
    assert "c.parquet: cannot be read as parquet" in message


def test_bad_ndjson_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.ndjson", '{"a": 1}\n{"a": 2\n')
    assert "c.ndjson: cannot be read as ndjson" in error_of(path)


def test_missing_required_columns_all_listed_with_suggestions(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "Email,phone_no,city\nx,y,z\n")
    message = error_of(path, required_columns=["email", "phone", "country"])
    assert "lacks column(s) the rules need: 'email' (did you mean 'Email'?)" in message
    assert "'phone' (did you mean 'phone_no'?)" in message
    assert "'country'" in message and "the file has: Email, phone_no, city" in message


def test_null_id_is_an_error_with_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'id,note\n1,"a\nb"\n \n2,x\n,y\n')
    message = error_of(path, id_column="id")
    assert message.startswith(f"{path}:6: id column 'id' is empty, 1 row(s) without an id")


def test_existing_record_id_column_needs_id_column(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "record_id,a\nx,1\n")
    assert "already has a column named 'record_id'" in error_of(path)
    assert read_table(path, id_column="record_id").frame.columns == ["record_id", "a"]


def test_record_id_equal_to_the_id_column_is_crmclean_output(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "record_id,id,a\nx,x,1\ny, y ,2\n")
    frame = read_table(path, id_column="id").frame
    assert frame.columns == ["record_id", "id", "a"] and frame["record_id"].to_list() == ["x", "y"]
    other = write(tmp_path / "d.csv", "record_id,id,a\nx,x,1\ny,z,2\n")
    assert "already has a column named 'record_id'" in error_of(other, id_column="id")


def test_bad_integer_named_by_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "n\n1\n2\nzwei\n")
    read = read_table(path)
    _, problems = apply_types(read.frame, {"n": "integer"}, DEFAULT_NULL_TOKENS, read.locate)
    assert [p.path for p in problems] == [("columns", "n", "type")]
    assert f"(the first at {path}:4)" in problems[0].problem
    assert "zwei" not in problems[0].problem  # a value may be personal: never quoted


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a\n1\n")
    assert "unknown encoding 'klingon'" in error_of(path, encoding="klingon")


@pytest.mark.slow
def test_huge_single_field_reads_without_hanging(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.write(b'id,note,city\n1,"')
        for _ in range(100):
            handle.write(b"x" * (1024 * 1024))
        handle.write(b'",Berlin\n2,,\n')
    frame = read_table(path).frame
    assert frame.height == 2
    assert frame.get_column("note").str.len_bytes().to_list() == [100 * 1024 * 1024, None]


def test_large_single_field_with_empty_cells(tmp_path: Path) -> None:
    """The same path as the 100 MB test (empty last cells make the csv module count fields)."""
    path = tmp_path / "big.csv"
    path.write_bytes(b'id,note,city\n1,"' + b"x" * 4_000_000 + b'",Berlin\n2,,\n3,c,\n')
    frame = read_table(path).frame
    assert frame.get_column("note").str.len_bytes().to_list() == [4_000_000, None, 1]


def test_huge_unclosed_field_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.write(b'id,note\n1,"')
        for _ in range(4):
            handle.write(b"y" * (1024 * 1024) + b"\n")
    message = error_of(path)
    assert f"{path}:2: cannot be parsed as comma-separated CSV: the quoted field" in message
    assert "yyy" not in message  # data never leaks into the message
    assert len(message) < 300


def test_stray_quote_inside_quoted_field(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'a,b\n1,2\n3,"x"y"\n')
    assert f"{path}:3: cannot be parsed as comma-separated CSV" in error_of(path)


def test_lone_carriage_return_inside_a_field(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a,b\n1,x\ry\n2,\n")  # the empty cell makes the csv pass run
    assert read_table(path).frame.get_column("b").to_list() == ["x\ry", None]


def test_old_mac_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a;b\r1;2\r3;\r")
    assert read_table(path).frame.rows() == [("1", "1", "2"), ("2", "3", None)]


def test_byte_undefined_in_the_guessed_codepage(tmp_path: Path) -> None:
    data = "id,city\n1,Köln\n".encode("cp1252") + b"x" * 10 + b"2,\x81\n"
    path = write(tmp_path / "c.csv", data)
    message = error_of(path, encoding="cp1252")
    assert f"{path}:3:13: byte 0x81 is not valid cp1252 (the file mixes encodings)" in message


def test_short_row_found_without_the_csv_module(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'a|b|c\n"x|y"|2|\n\n  \n"p|q"|\n')
    assert error_of(path).startswith(f"{path}:5: has 2 field(s), the header has 3, pipe-separated")


def test_blank_and_space_lines_dropped_on_the_fast_path(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path / "c.csv", "a,b\n1,\n   \n\n2,x\n")).frame
    assert frame.rows() == [("1", "1", None), ("2", "2", "x")]
