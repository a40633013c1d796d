/**
 * `npm run secrets` (bundled to dist/secrets.mjs): creates or keeps every
 * credential of the stack in ./secrets/ (or --dir / ETL_SECRETS_DIR).
 * See `--help`; the work is in `store.ts` and `cli.ts` beside it.
 *
 * @example
 * ```sh
 * npm run secrets                          # create what is missing, keep the rest
 * npm run secrets -- --rotate grafana_admin
 * ```
 * @module
 */
import process from "node:process";
import { runSecretsCli } from "./cli.ts";

process.exitCode = await runSecretsCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
