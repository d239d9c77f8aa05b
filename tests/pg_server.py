"""A throw-away PostgreSQL cluster for the database tests: initdb in a temp folder, a free
localhost port, password authentication over TCP, removed afterwards.

The server refuses to run as root, so as root the cluster belongs to the `postgres` user that
Debian's package creates. Without server binaries the tests skip with the reason, except in CI
(`CI` set), where `make test` installs them (`make postgresql`) and a skip would hide a gap.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "crmclean_admin"
SUPERUSER_PASSWORD = "s3cret-admin-pw"  # a throw-away cluster's, on localhost only


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path

    def url(self, user: str = SUPERUSER, database: str = "crm") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "crm") -> None:
        """Run SQL as the superuser (psql, password from the environment)."""
        env = {**os.environ, "PGPASSWORD": SUPERUSER_PASSWORD}
        command = [
            str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
            "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", statement,
        ]  # fmt: skip
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    binaries = server_binaries()
    if binaries is None:
        reason = "PostgreSQL server binaries not installed (make postgresql installs them)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the database tests")
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="crmclean-pg-"))
    data = folder / "data"
    secret = folder / "pw"
    secret.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(secret, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_owner([
                str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
                f"--pwfile={secret}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C",
            ]),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_owner([
                str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
                "-l", str(folder / "log"), "-w", "-t", "60", "start",
            ]),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        cluster = Cluster(folder, port, binaries)
        cluster.sql("CREATE DATABASE crm", database="postgres")
        yield cluster
    finally:
        subprocess.run(
            _as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,  # a cluster that never started has nothing to stop
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
