"""The output lock: one run per --out; a dead run's lock is taken over."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crmclean.io.lock import OutputLocked, lock_path, output_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from crmclean.io.lock import output_lock
    with output_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(60)
    """
)


def test_lock_is_exclusive_while_a_live_process_holds_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(OutputLocked, match=rf"pid {holder.pid} .* is writing to"),
            output_lock(out),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    # killed with SIGKILL: the kernel released the flock, the file stays and is taken over
    assert lock_path(out).exists()
    with output_lock(out) as lock:
        assert lock.stale_holder is not None and lock.stale_holder["pid"] == holder.pid
    assert not lock_path(out).exists()


def test_stale_lock_file_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    lock_path(out).write_text(json.dumps({"pid": 999_999_999, "host": "x", "started": "then"}))
    with output_lock(out) as lock:
        assert lock.stale_holder == {"pid": 999_999_999, "host": "x", "started": "then"}
        assert json.loads(lock_path(out).read_text())["command"] == "run"


def test_lock_released_after_an_exception(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), output_lock(out):
        raise RuntimeError("boom")
    with output_lock(out):
        pass
