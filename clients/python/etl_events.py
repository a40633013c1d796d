"""Events of the ETL log contract (version 1) for Python jobs, stdlib only (Python >= 3.9).

Two sinks: :class:`FileSink` appends lines to a log file the exporter reads
(a job on the exporter's host); :class:`HttpSink` pushes batches to the
exporter's ``POST /api/v1/events`` with the bearer token (a job anywhere
else). The HTTP sink retries a batch with exponential backoff and full jitter
on network errors, timeouts, 429 and 5xx (honouring ``Retry-After``), never
on another 4xx, and gives every event an ``event_id`` (UUIDv7) before its
first send, so a retried batch is counted once.

Example::

    from etl_events import EventEmitter, HttpSink

    sink = HttpSink("http://exporter:8083/api/v1/events", token=open("/run/secrets/ingest_token").read().strip())
    etl = EventEmitter("orders", sink)
    with etl.run(version="1.4.0"):
        etl.file_processed("orders-0001.csv", records=120, duration_ms=11890)
    sink.close()
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Protocol

CONTRACT_VERSION = 1
_PIPELINE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ERROR_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class EventRefusedError(ValueError):
    """An event that would break the log contract; nothing was written."""


class PushFailedError(RuntimeError):
    """A batch refused by the exporter (4xx other than 429) or failed on every attempt."""


class Sink(Protocol):
    """Where the emitter's lines go: one complete JSON line, newline included."""

    def write(self, line: str) -> None: ...


def uuid7(now_ms: Optional[int] = None) -> str:
    """A UUIDv7: 48 bits of milliseconds since the epoch, then random bits; sorts by time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    raw = bytearray(os.urandom(16))
    raw[0:6] = ms.to_bytes(6, "big")
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def retry_delay_s(attempt: int, retry_after: Optional[str], base_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """The wait before attempt ``attempt + 1``: ``Retry-After`` seconds when given, else full-jitter backoff."""
    if retry_after is not None:
        try:
            seconds = float(retry_after)
            if seconds >= 0:
                return min(seconds, max_s)
        except ValueError:
            pass
    return rand() * min(max_s, base_s * (2 ** attempt))


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FileSink:
    """Appends each line to ``path`` (its folder made when missing)."""

    def __init__(self, path: str) -> None:
        self.path = path
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)

    def write(self, line: str) -> None:
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line)


class HttpSink:
    """Batches lines and pushes them to the exporter; see the module notes.

    Lines are sent when ``batch_size`` are waiting, after ``flush_s`` seconds,
    on :meth:`flush`, on :meth:`close` and at interpreter exit.
    """

    def __init__(
        self,
        url: str,
        token: str,
        batch_size: int = 100,
        flush_s: float = 1.0,
        max_attempts: int = 8,
        base_delay_s: float = 0.2,
        max_delay_s: float = 30.0,
        timeout_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        on_problem: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.url, self.token = url, token
        self.batch_size, self.flush_s = batch_size, flush_s
        self.max_attempts, self.base_delay_s, self.max_delay_s, self.timeout_s = max_attempts, base_delay_s, max_delay_s, timeout_s
        self._sleep = sleep
        self._problem = on_problem or (lambda message: print(f"etl events: {message}", file=__import__("sys").stderr))
        self._buffer: List[str] = []
        self._lock = threading.RLock()
        self._timer: Optional[threading.Timer] = None
        self._failure: Optional[PushFailedError] = None
        atexit.register(self._flush_at_exit)

    def write(self, line: str) -> None:
        """Queues one line, giving its event an ``event_id`` when it has none."""
        event = json.loads(line)
        event.setdefault("event_id", uuid7())
        with self._lock:
            self._buffer.append(json.dumps(event, separators=(",", ":")))
            if len(self._buffer) >= self.batch_size:
                self._send_buffer()
            elif self._timer is None:
                self._timer = threading.Timer(self.flush_s, self._send_buffer)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Sends everything written so far; raises :class:`PushFailedError` when a batch was given up."""
        with self._lock:
            self._send_buffer()
            failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Flushes and stops flushing at exit."""
        atexit.unregister(self._flush_at_exit)
        self.flush()

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except PushFailedError as error:
            self._problem(str(error))

    def _send_buffer(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            while self._buffer:
                batch, self._buffer = self._buffer[: self.batch_size], self._buffer[self.batch_size :]
                try:
                    self._send(batch)
                except PushFailedError as error:
                    self._failure = self._failure or error
                    self._problem(str(error))

    def _send(self, lines: List[str]) -> None:
        body = ("\n".join(lines) + "\n").encode("utf-8")
        last = ""
        for attempt in range(self.max_attempts):
            retry_after: Optional[str] = None
            request = urllib.request.Request(
                self.url, data=body, method="POST",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    result = json.loads(response.read().decode("utf-8") or "{}")
                for rejected in result.get("rejected", []):
                    self._problem(f"event {rejected['index']} of a batch rejected: {rejected['reason']}")
                return
            except urllib.error.HTTPError as error:
                text = error.read().decode("utf-8", "replace")[:500]
                if error.code != 429 and error.code < 500:
                    raise PushFailedError(f"push refused with {error.code}: {text}") from None
                last, retry_after = f"{error.code} {text[:200]}", error.headers.get("Retry-After")
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            if attempt + 1 < self.max_attempts:
                self._sleep(retry_delay_s(attempt, retry_after, self.base_delay_s, self.max_delay_s))
        raise PushFailedError(f"push of {len(lines)} events given up after {self.max_attempts} attempts: {last}")


class EventEmitter:
    """Writes events of one pipeline and one run, checked against the contract's rules."""

    def __init__(self, pipeline: str, sink: Sink, run_id: Optional[str] = None, clock: Callable[[], str] = _now_iso) -> None:
        if not _PIPELINE.match(pipeline):
            raise EventRefusedError("pipeline must match ^[a-z0-9][a-z0-9_-]{0,62}$")
        self.pipeline, self.sink = pipeline, sink
        self.run_id = run_id or str(uuid.uuid4())
        self._clock = clock

    def emit(self, event: str, level: str = "info", **fields: Any) -> Dict[str, Any]:
        """Writes one event; raises :class:`EventRefusedError` for one that breaks the contract."""
        for name in ("records", "bytes"):
            if name in fields and (not isinstance(fields[name], int) or isinstance(fields[name], bool) or fields[name] < 0):
                raise EventRefusedError(f"{name}: must be an integer >= 0")
        if "duration_ms" in fields and (not isinstance(fields["duration_ms"], (int, float)) or fields["duration_ms"] < 0):
            raise EventRefusedError("duration_ms: must be a number >= 0")
        if "error_type" in fields and not _ERROR_TYPE.match(str(fields["error_type"])):
            raise EventRefusedError("error_type must be snake_case, at most 63 characters")
        record = {"v": CONTRACT_VERSION, "ts": self._clock(), "level": level, "event": event, "pipeline": self.pipeline, "run_id": self.run_id, **fields}
        self.sink.write(json.dumps(record, separators=(",", ":")) + "\n")
        return record

    def started(self, version: Optional[str] = None) -> Dict[str, Any]:
        """``etl_started``: uptime counts from here."""
        return self.emit("etl_started", **({"version": version} if version else {}))

    def heartbeat(self, state: Optional[str] = None) -> Dict[str, Any]:
        """``heartbeat``: the process is alive."""
        return self.emit("heartbeat", level="debug", **({"state": state} if state else {}))

    def file_started(self, file: str) -> Dict[str, Any]:
        """``file_started``: a file was taken up."""
        return self.emit("file_started", file=file)

    def file_processed(self, file: str, records: int, duration_ms: float, bytes: Optional[int] = None) -> Dict[str, Any]:
        """``file_processed``: a file finished."""
        return self.emit("file_processed", file=file, records=records, duration_ms=duration_ms, **({"bytes": bytes} if bytes is not None else {}))

    def file_failed(self, file: str, error_type: str, records: int, duration_ms: float, message: str) -> Dict[str, Any]:
        """``file_failed``: a file failed part-way."""
        return self.emit("file_failed", level="error", file=file, error_type=error_type, records=records, duration_ms=duration_ms, message=message[:4096])

    def finished(self, status: str, records: Optional[int] = None, duration_ms: Optional[float] = None, message: Optional[str] = None) -> Dict[str, Any]:
        """``etl_finished``: the run ended with ``success``, ``failed`` or ``cancelled``."""
        if status not in ("success", "failed", "cancelled"):
            raise EventRefusedError("status must be success, failed or cancelled")
        fields: Dict[str, Any] = {"status": status}
        if records is not None:
            fields["records"] = records
        if duration_ms is not None:
            fields["duration_ms"] = duration_ms
        if message:
            fields["message"] = message[:4096]
        return self.emit("etl_finished", level="error" if status == "failed" else "info", **fields)

    @contextlib.contextmanager
    def run(self, version: Optional[str] = None) -> Iterator["EventEmitter"]:
        """One run of the job: ``etl_started`` on entry, ``etl_finished`` on exit.

        ``success`` when the block ends, ``failed`` with the exception's message
        when it raises (the exception is re-raised as it is); the sink is
        flushed either way, so the exporter knows the run ended.
        """
        self.started(version)
        started_at = time.monotonic()
        try:
            yield self
        except BaseException as error:
            self.finished("failed", duration_ms=round((time.monotonic() - started_at) * 1000), message=str(error) or type(error).__name__)
            raise
        else:
            self.finished("success", duration_ms=round((time.monotonic() - started_at) * 1000))
        finally:
            flush = getattr(self.sink, "flush", None)
            if callable(flush):
                flush()
