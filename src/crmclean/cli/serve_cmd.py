"""`crmclean serve OUT --port 8080`: the duplicate check at entry as a small HTTP service for a
CRM's entry form (cli/match_service.py). Needs the optional extra: pip install 'crmclean[serve]'.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console
from crmclean.cli.entry_setup import load_entry_check
from crmclean.cli.options import ShowValuesOpt, examples
from crmclean.errors import OutputError, UsageError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EXTRA_HINT = "install the service's extra: pip install 'crmclean[serve]'"


EXAMPLES = examples(
    "crmclean serve out/ --port 8080",
    "crmclean serve out/ --host 0.0.0.0 --token-env CRMCLEAN_TOKEN",
    doc="docs/entry.md",
)


@app.command("serve", epilog=EXAMPLES)
def serve_command(
    out: Annotated[Path, typer.Argument(help="The --out folder of a `crmclean run`.")],
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to listen on; only this machine by default.")
    ] = "127.0.0.1",
    token_env: Annotated[
        str | None,
        typer.Option(
            help="Name of an environment variable holding the bearer token requests must carry."
        ),
    ] = None,
    max_body_bytes: Annotated[
        int, typer.Option(min=64, help="Larger request bodies are refused (413).")
    ] = 1_048_576,
    max_records: Annotated[
        int, typer.Option(min=1, help="More records in one request are refused (413).")
    ] = 100,
    limit: Annotated[
        int, typer.Option(min=1, max=100, help="At most this many candidates per record.")
    ] = 5,
    reload_seconds: Annotated[
        float, typer.Option(min=0.1, help="How often to look for a newer run in OUT.")
    ] = 2.0,
    show_values: ShowValuesOpt = False,
    no_token: Annotated[
        bool,
        typer.Option(
            "--no-token",
            help="Serve another host without a bearer token (only behind a proxy that "
            "authenticates).",
        ),
    ] = False,
) -> None:
    """Serve POST /match (JSON records in, candidate golden records out) and GET /health."""
    token = None
    if token_env is not None:
        token = os.environ.get(token_env)
        if not token:
            raise UsageError(f"--token-env {token_env}: the environment variable is not set")
    if token is None and host not in LOCAL_HOSTS and not no_token:
        raise UsageError(
            f"--host {host}: customer data would be served to the network without a token",
            "set --token-env VAR (a bearer token in that variable), or pass --no-token if a "
            "proxy in front authenticates",
        )
    try:
        import uvicorn

        from crmclean.cli.match_service import ServiceOptions, build_app, log
    except ImportError as exc:
        raise UsageError(f"serve needs {exc.name}, which is not installed", EXTRA_HINT) from None
    loaded = load_entry_check(out)
    options = ServiceOptions(
        out, token, max_body_bytes, max_records, limit, show_values, reload_seconds
    )
    config = uvicorn.Config(
        build_app(options, loaded),
        host=host,
        port=port,
        access_log=False,  # our own JSON lines, without query strings or client addresses
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    listening = listen(host, port)  # bound here: a port in use is exit 3, not a silent hang
    stderr_console().print(
        f"crmclean serve: {out} ({loaded.run.records.height:,} records) on http://{host}:{port}",
        markup=False,
    )
    log("listening", host=host, port=port)
    server.run(sockets=[listening])
    if not server.started:
        raise OutputError(f"serve: could not start on http://{host}:{port}; see the log above")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or exit 3 naming them (in use, not allowed, no address)."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = info[0]
        bound = socket.socket(family, kind, proto)
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"serve: cannot listen on {host}:{port}: {reason}",
            "choose another --port, or stop what is using it",
        ) from None
    return bound
