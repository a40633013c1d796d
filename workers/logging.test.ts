import type { LogRecord } from "@logtape/logtape";
import { describe, expect, it } from "vitest";
import { counted, logFormatter, plainMessage, plainValue } from "./logging.ts";

const record = (message: unknown[], properties: Record<string, unknown>): LogRecord => ({
  category: ["etl", "exporter"],
  level: "info",
  message,
  rawMessage: "",
  properties,
  timestamp: Date.UTC(2026, 11, 1, 21, 50, 7, 250),
});

// "Exporter on http://{host}:{port}/ reading {logDir}", as LogTape splits it.
const exporterLine = record(["Exporter on http://", "127.0.0.1", ":", 8083, "/ reading ", "data/logs", ""], {
  host: "127.0.0.1",
  port: 8083,
  logDir: "data/logs",
});

describe("plain messages", () => {
  it("write values as a person would: strings unquoted, errors by their message", () => {
    expect(plainMessage(exporterLine)).toBe("Exporter on http://127.0.0.1:8083/ reading data/logs");
    expect(plainValue(new Error("EACCES: permission denied"))).toBe("EACCES: permission denied");
    expect(plainValue({ parsed: 3, malformed: 0 })).toBe("parsed 3, malformed 0");
    expect(plainValue(["etl", "orders"])).toBe("etl, orders");
    expect(plainValue({ nested: { a: 1 } })).toBe('{"nested":{"a":1}}');
    expect(plainValue(null)).toBe("null");
    expect(plainValue(undefined)).toBe("undefined");
  });

  it("count with the right noun", () => {
    expect([0, 1, 2].map((n) => counted(n, "file"))).toEqual(["0 files", "1 file", "2 files"]);
    expect(counted(1, "worker thread")).toBe("1 worker thread");
  });
});

describe("logFormatter", () => {
  it("writes text for a terminal", () => {
    const line = logFormatter("auto", true)(exporterLine);
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[INF\] etl\.exporter: Exporter on http:\/\/127\.0\.0\.1:8083\/ reading data\/logs\n$/);
    expect(logFormatter("text", false)(exporterLine)).toBe(line);
  });

  it("keeps a terminal safe from control characters a value carries", () => {
    const line = logFormatter("text")(record(["Cannot read ", "a\u001b[2Jb.log", ""], {}));
    expect(line).toContain("Cannot read a\\u001b[2Jb.log\n");
  });

  it("writes JSON lines otherwise, with the plain message and the typed properties", () => {
    const line = logFormatter("auto", false)(exporterLine);
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({
      "@timestamp": "2026-12-01T21:50:07.250Z",
      level: "INFO",
      message: "Exporter on http://127.0.0.1:8083/ reading data/logs",
      logger: "etl.exporter",
      properties: { host: "127.0.0.1", port: 8083, logDir: "data/logs" },
    });
    expect(logFormatter("json", true)(exporterLine)).toBe(line);
  });
});
