"""The ASGI app behind `crmclean serve`: POST /match answers new records as `crmclean match
--format json` does, GET /health says which run is loaded. Starlette; uvicorn runs it.

Requests are checked before any work: a bearer token when one is set, a body size cap (read in
chunks, so a body without Content-Length cannot exceed it either), well-formed JSON, at most
`max_records` records of known columns and scalar values; each failure is a 4xx JSON answer with
one `error` line, never a crash. Lookups run in a worker thread; the index they read is replaced
whole when a newer complete run appears in the folder (its manifest.json changes), never edited.
Log lines are JSON on stderr and carry no personal value: counts, codes and timings only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmclean.cli.entry_setup import LoadedEntryCheck, load_entry_check
from crmclean.errors import CrmcleanError, UsageError
from crmclean.io.match_run import manifest_stamp
from crmclean.report.match_answers import masked, shown, to_json


@dataclass(frozen=True)
class ServiceOptions:
    folder: Path
    token: str | None = None  # the bearer token requests must carry (None: no token)
    max_body_bytes: int = 1_048_576
    max_records: int = 100
    limit: int = 5
    show_values: bool = False
    reload_seconds: float = 2.0


def log(event: str, level: str = "info", **fields: Any) -> None:
    """One JSON line on stderr; callers pass counts, codes and timings, never values."""
    record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level}
    line = json.dumps({**record, "event": event, **fields}, default=str)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


@dataclass
class _Loaded:
    """The run being served; replaced whole on reload."""

    current: LoadedEntryCheck
    stamp: tuple[int, int, int] | None
    tried: tuple[int, int, int] | None = None  # the last stamp a reload failed on
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def build_app(options: ServiceOptions, loaded: LoadedEntryCheck) -> Starlette:
    state = _Loaded(loaded, loaded.run.stamp)

    async def health(request: Request) -> Response:
        run = state.current.run
        return JSONResponse(
            {
                "status": "ok",
                "run": str(run.folder),
                "run_finished_at": run.manifest.get("finished_at"),
                "records": run.records.height,
                "golden_records": run.golden.height,
                "loaded_at": state.loaded_at,
            }
        )

    async def match(request: Request) -> Response:
        started = time.perf_counter()
        try:
            _authorise(request, options.token)
            items = await _json_body(request, options.max_body_bytes)
            answers, count = await run_in_threadpool(_answer, state.current, items, options)
        except _Refused as exc:
            # a 422 names the client's own columns and values: the answer says it, the log not
            reason = str(exc) if exc.status != 422 else "records refused (the answer says why)"
            log("match_refused", level="warning", status=exc.status, reason=reason)
            return _error(exc.status, str(exc))
        except Exception as exc:  # a bug must answer 500, not drop the connection
            log("match_failed", level="error", kind=type(exc).__name__)
            return _error(500, "internal error; see the service log")
        ms = round((time.perf_counter() - started) * 1000, 2)
        decisions = [a["decision"] for a in answers]
        log("match", status=200, records=count, ms=ms, decisions=_counts(decisions))
        return Response(to_json({"answers": answers}), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # the first lookup pays for polars' and the parsers' first calls: not a customer's
        await run_in_threadpool(_answer, state.current, {}, options)
        log("service_started", run=str(options.folder), records=loaded.run.records.height)
        if loaded.note is not None:
            log("index_built_on_load", level="warning", note=loaded.note)
        watcher = asyncio.create_task(_watch(state, options))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            log("service_stopped")

    routes = [Route("/health", health, methods=["GET"]), Route("/match", match, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _counts(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def _authorise(request: Request, token: str | None) -> None:
    if token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
        raise _Refused(401, "missing or wrong bearer token (Authorization: Bearer ...)")


async def _json_body(request: Request, cap: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > cap):
        raise _Refused(413, f"request body larger than {cap:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _Refused(413, f"request body larger than {cap:,} bytes")
    try:
        return json.loads(bytes(body))
    except (UnicodeDecodeError, ValueError) as exc:  # also numbers past Python's digit limit
        raise _Refused(400, f"body is not valid JSON ({exc})") from None
    except RecursionError:
        raise _Refused(400, "body is not valid JSON (nested too deeply)") from None


def _answer(
    loaded: LoadedEntryCheck, items: Any, options: ServiceOptions
) -> tuple[list[dict[str, Any]], int]:
    listed = items if isinstance(items, list) else [items]
    if len(listed) > options.max_records:
        raise _Refused(
            413, f"{len(listed):,} records in one request; at most {options.max_records}"
        )
    check = loaded.check
    try:
        frame = check.records(listed)
        answers = check.check(frame, limit=options.limit)
    except UsageError as exc:
        raise _Refused(422, str(exc)) from None
    if options.show_values:
        return shown(answers), len(listed)
    return masked(answers, loaded.pii, check.id_column), len(listed)


async def _watch(
    state: _Loaded,
    options: ServiceOptions,
    load: Callable[[Path], LoadedEntryCheck] = load_entry_check,
) -> None:
    """Reload when a newer run replaced the folder; a broken or half-written one is logged and
    the loaded run keeps answering until a complete one appears."""
    while True:
        await asyncio.sleep(options.reload_seconds)
        stamp = manifest_stamp(options.folder)
        if stamp is None or stamp in (state.stamp, state.tried):
            continue
        started = time.perf_counter()
        try:
            fresh = await asyncio.to_thread(load, options.folder)
        except CrmcleanError as exc:
            state.tried = stamp
            log("reload_failed", level="warning", reason=str(exc))
            continue
        state.current, state.stamp, state.tried = fresh, fresh.run.stamp, None
        state.loaded_at = datetime.now(UTC).isoformat()
        seconds = round(time.perf_counter() - started, 3)
        log("reloaded", records=fresh.run.records.height, seconds=seconds)
        if fresh.note is not None:
            log("index_built_on_load", level="warning", note=fresh.note)
