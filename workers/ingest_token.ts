/**
 * The push endpoint's token on disk: `ingest_token` (the token, for clients)
 * and `ingest_token.sha256` (its hash, all the exporter reads), both 0600 in
 * the secrets folder. Made by `npm run secrets`, or by the exporter on its
 * first run with `--ingest` when no token file is set.
 *
 * @example
 * ```ts
 * import { ensureIngestToken, readIngestTokenHash } from "./ingest_token.ts";
 * const { hashFile } = await ensureIngestToken("secrets");
 * const hash = await readIngestTokenHash(hashFile);
 * ```
 * @module
 */
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { createIngestToken, ingestTokenHash, ingestTokenMatches, isIngestTokenHash } from "../lib/ingest/token.ts";
import { ensureSecretsDir, readSecretFile, readSecretFileIfPresent, SECRET_FILE_MODE, writeSecretFile } from "./secret_files.ts";

/** The token's file in the secrets folder. */
export const INGEST_TOKEN_FILE = "ingest_token";
/** Its hash's file, beside it. */
export const INGEST_TOKEN_HASH_FILE = "ingest_token.sha256";

/** The files {@linkcode ensureIngestToken} made or kept. */
export interface IngestTokenFiles {
  tokenFile: string;
  hashFile: string;
  token: "created" | "kept" | "rotated";
}

/** Keeps the token of `dir` (or makes it, or a new one with `rotate`) and writes its hash when it differs. */
export async function ensureIngestToken(dir: string, options: { rotate?: boolean } = {}): Promise<IngestTokenFiles> {
  await ensureSecretsDir(dir);
  const tokenFile = join(dir, INGEST_TOKEN_FILE);
  const hashFile = join(dir, INGEST_TOKEN_HASH_FILE);
  const present = (await readSecretFileIfPresent(tokenFile, { what: "ingest token" }))?.trim();
  let token = present;
  if (!token || options.rotate) {
    token = createIngestToken();
    await writeSecretFile(tokenFile, token);
  }
  const hash = (await readSecretFileIfPresent(hashFile, { what: "ingest token hash" }))?.trim() ?? "";
  if (!isIngestTokenHash(hash) || !ingestTokenMatches(token, hash)) await writeSecretFile(hashFile, ingestTokenHash(token) + "\n");
  // Kept files are tightened too, as the passwords are.
  await Promise.all([chmod(tokenFile, SECRET_FILE_MODE), chmod(hashFile, SECRET_FILE_MODE)]);
  return { tokenFile, hashFile, token: !present ? "created" : options.rotate ? "rotated" : "kept" };
}

/** Reads a token hash file; throws naming the file when it holds no SHA-256 hash. */
export async function readIngestTokenHash(file: string, setting?: string): Promise<string> {
  const hash = (await readSecretFile(file, { what: "ingest token hash", setting, whenMissing: "run `npm run secrets`" })).trim();
  if (!isIngestTokenHash(hash)) throw new Error(`${setting ? `${setting} ` : "the ingest token hash file "}${file}: not a SHA-256 hash (64 hex digits)`);
  return hash;
}
