"""Tests of etl_events: run by clients/python/etl_events.test.ts (``python3 -m unittest``)."""
from __future__ import annotations

import json
import os
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

from etl_events import EventEmitter, EventRefusedError, FileSink, HttpSink, PushFailedError, retry_delay_s, uuid7


class FlakyExporter:
    """An endpoint answering from a script (503, 429, "drop" after storing, "ok"), deduping by event_id as the exporter does."""

    def __init__(self, script: List[str]) -> None:
        self.script, self.stored, self.calls = list(script), {}, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                step = outer.script.pop(0) if outer.script else "ok"
                outer.calls.append(step)
                if self.headers["Authorization"] != "Bearer t0ken":
                    step = "401"
                if step in ("503", "429", "401", "400"):
                    self.send_response(int(step))
                    if step == "429":
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                for line in body.splitlines():
                    event = json.loads(line)
                    outer.stored.setdefault(event["event_id"], event)
                if step == "drop":
                    self.connection.close()
                    return
                payload = json.dumps({"accepted": 0, "duplicates": 0, "rejected": []}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/events"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HttpSinkTest(unittest.TestCase):
    def test_every_event_once_through_failures(self) -> None:
        exporter = FlakyExporter(["drop", "503", "ok", "429", "drop", "ok"])
        self.addCleanup(exporter.stop)
        sink = HttpSink(exporter.url, "t0ken", batch_size=3, sleep=lambda s: None, on_problem=lambda m: None)
        etl = EventEmitter("orders", sink)
        for i in range(6):
            etl.file_processed(f"f{i}.csv", records=i, duration_ms=1)
        sink.close()
        self.assertEqual(exporter.calls, ["drop", "503", "ok", "429", "drop", "ok"])
        self.assertEqual(sorted(e["file"] for e in exporter.stored.values()), [f"f{i}.csv" for i in range(6)])

    def test_no_retry_on_4xx(self) -> None:
        exporter = FlakyExporter([])
        self.addCleanup(exporter.stop)
        sink = HttpSink(exporter.url, "wrong", sleep=lambda s: None, on_problem=lambda m: None)
        EventEmitter("orders", sink).started()
        with self.assertRaisesRegex(PushFailedError, "^push refused with 401"):
            sink.close()
        self.assertEqual(exporter.calls, ["ok"])

    def test_gives_up(self) -> None:
        exporter = FlakyExporter(["503", "503", "503"])
        self.addCleanup(exporter.stop)
        sink = HttpSink(exporter.url, "t0ken", max_attempts=3, sleep=lambda s: None, on_problem=lambda m: None)
        EventEmitter("orders", sink).started()
        with self.assertRaisesRegex(PushFailedError, "given up after 3 attempts: 503"):
            sink.close()

    def test_delays_and_ids(self) -> None:
        self.assertEqual(retry_delay_s(0, "2", 0.2, 30), 2.0)
        self.assertAlmostEqual(retry_delay_s(3, None, 0.2, 30, rand=lambda: 0.5), 0.8)
        self.assertEqual(retry_delay_s(30, None, 0.2, 30, rand=lambda: 1.0), 30)
        a = uuid7(1_700_000_000_000)
        self.assertRegex(a, r"^018bcfe5-6800-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertLess(a, uuid7(1_700_000_000_001))


class FileSinkTest(unittest.TestCase):
    def test_run_writes_the_contract(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "logs", "orders.log")
            etl = EventEmitter("orders", FileSink(path), clock=lambda: "2026-11-23T10:00:00.000Z")
            with etl.run(version="1.0"):
                etl.file_processed("a.csv", records=3, duration_ms=1.5)
            with open(path, encoding="utf-8") as file:
                lines = [json.loads(line) for line in file]
        self.assertEqual([e["event"] for e in lines], ["etl_started", "file_processed", "etl_finished"])
        self.assertEqual(lines[2]["status"], "success")
        self.assertEqual(lines[1], {"v": 1, "ts": "2026-11-23T10:00:00.000Z", "level": "info", "event": "file_processed", "pipeline": "orders", "run_id": etl.run_id, "file": "a.csv", "records": 3, "duration_ms": 1.5})

    def test_run_that_raises_finishes_failed_and_reraises(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "logs", "orders.log")
            etl = EventEmitter("orders", FileSink(path))
            with self.assertRaisesRegex(ValueError, "source down"):
                with etl.run():
                    raise ValueError("source down")
            with open(path, encoding="utf-8") as file:
                last = [json.loads(line) for line in file][-1]
        self.assertEqual((last["event"], last["status"], last["level"], last["message"]), ("etl_finished", "failed", "error", "source down"))

    def test_refuses_what_breaks_the_contract(self) -> None:
        with self.assertRaises(EventRefusedError):
            EventEmitter("Bad Name", FileSink(os.devnull))
        with self.assertRaisesRegex(EventRefusedError, "records"):
            EventEmitter("orders", FileSink(os.devnull)).file_processed("a", records=-1, duration_ms=1)


@unittest.skipUnless(os.environ.get("ETL_TEST_EXPORTER_URL"), "needs the exporter started by etl_events.test.ts")
class RealExporterTest(unittest.TestCase):
    def test_push_to_the_exporter(self) -> None:
        sink = HttpSink(os.environ["ETL_TEST_EXPORTER_URL"], os.environ["ETL_TEST_TOKEN"], batch_size=7)
        etl = EventEmitter("python-job", sink)
        with etl.run():
            for i in range(20):
                etl.file_processed(f"f{i}.csv", records=i, duration_ms=1)
        sink.close()


if __name__ == "__main__":
    unittest.main()
