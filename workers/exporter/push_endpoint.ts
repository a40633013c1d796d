/**
 * The exporter's push endpoint put together from its settings: the token
 * hash, the dedupe window refilled from the pushed files, the group-commit
 * sink and the handler. Loaded only with `--ingest`.
 *
 * @example
 * ```ts
 * import { openPushEndpoint } from "./push_endpoint.ts";
 * const push = await openPushEndpoint(settings, "data/logs");
 * createApp({ title, source, ingest: push.handler });
 * ```
 * @module
 */
import { mkdir } from "node:fs/promises";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import type { Handler } from "hono";
import { ingestHandler } from "../../handlers/ingest.ts";
import { DedupeWindow } from "../../lib/ingest/dedupe_window.ts";
import { ingestTokenMatches } from "../../lib/ingest/token.ts";
import { ensureIngestToken, readIngestTokenHash } from "../ingest_token.ts";
import { createPushSink, PushQueueFull, type PushSink, rememberPushedIds } from "./push_sink.ts";

/** The settings the endpoint reads. */
export interface PushEndpointSettings {
  ingestTokenFile?: string;
  ingestMaxBodyBytes: number;
  ingestQueueEvents: number;
  ingestDedupeHours: number;
  ingestDedupeIds: number;
  maxLineBytes: number;
}

/** Opens the endpoint; exits 2 with the reason when the token cannot be read. */
export async function openPushEndpoint(settings: PushEndpointSettings, logDir: string): Promise<{ handler: Handler; sink: PushSink }> {
  const log = getLogger(["etl", "exporter", "ingest"]);
  let hash: string;
  try {
    const file = settings.ingestTokenFile ?? (await ensureIngestToken("secrets")).hashFile;
    hash = await readIngestTokenHash(file, settings.ingestTokenFile ? "ETL_INGEST_TOKEN_FILE" : undefined);
  } catch (error) {
    process.stderr.write(`exporter: ${(error as Error).message}\n`);
    process.exit(2);
  }
  await mkdir(logDir, { recursive: true });
  const dedupe = new DedupeWindow({ windowMs: settings.ingestDedupeHours * 3_600_000, maxIds: settings.ingestDedupeIds });
  const remembered = await rememberPushedIds(logDir, dedupe, Date.now());
  log.info("Push endpoint on POST /api/v1/events; {count} event ids remembered from the pushed files", { count: remembered });
  const sink = createPushSink({ dir: logDir, maxQueuedEvents: settings.ingestQueueEvents, dedupe });
  const handler = ingestHandler({
    sink,
    verifyToken: (token) => ingestTokenMatches(token, hash),
    isQueueFull: (error) => error instanceof PushQueueFull,
    maxBodyBytes: settings.ingestMaxBodyBytes,
    maxLineBytes: settings.maxLineBytes,
  });
  return { handler, sink };
}
