"""The Spark engine on Spark Connect (SPARK_REMOTE): a local Connect server started by pyspark
in a fresh interpreter (tests/spark_connect_run.py), so no classic session of the test process
is in the way; the same model and clusters as the polars engine."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spark_session import missing

HERE = Path(__file__).resolve().parent


@pytest.mark.spark
@pytest.mark.slow  # a Connect server of its own: 15 min at load 30; `make test-slow` (Java)
def test_matching_on_spark_connect_gives_the_polars_engines_results() -> None:
    reason = missing() or (
        None if importlib.util.find_spec("grpc") else "pyspark[connect] is not installed"
    )
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark Connect test needs {reason}; CI must have it")
        pytest.skip(reason)
    env = {
        **os.environ,
        "SPARK_REMOTE": "local[2]",
        "PYSPARK_PYTHON": sys.executable,  # the server's Python workers run the UDFs
        # an ephemeral port (the client asks the local server for it), so parallel runs
        # and other Connect servers on this machine do not collide
        "SPARK_TESTING": "1",
        "PYSPARK_REMOTE_INIT_CONF_LEN": "1",
        "PYSPARK_REMOTE_INIT_CONF_0": '{"spark.ui.enabled": "false", '
        '"spark.ui.showConsoleProgress": "false", "spark.sql.shuffle.partitions": "4"}',
    }
    done = subprocess.run(
        [sys.executable, str(HERE / "spark_connect_run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same model and clusters on Spark Connect" in done.stdout
