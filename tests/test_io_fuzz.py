"""Whatever bytes a file holds, reading it ends in a frame or an InputError, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.errors import InputError
from crmclean.io.readers import read_table

# Bytes close to CSV (delimiters, quotes, line breaks, umlauts in two encodings) and raw noise.
csvish = st.lists(
    st.sampled_from(
        [b"a", b"1", b",", b";", b"\t", b'"', b"\n", b"\r\n", b"\r", b" ", b"\xc3\xbc", b"\xfc"]
    ),
    max_size=80,
).map(b"".join)
noise = st.binary(max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(csvish, noise), header=st.sampled_from([b"", b"id,name\n", b"a;b;c\n"]))
def test_any_bytes_give_a_frame_or_an_input_error(body: bytes, header: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(header + body)
        try:
            result = read_table(path)
        except InputError as exc:
            assert str(exc).startswith(str(path)), str(exc)
            assert "\n" not in exc.message
            return
    assert result.frame.columns[0] == "record_id"
    assert result.frame.height == result.info.rows > 0
