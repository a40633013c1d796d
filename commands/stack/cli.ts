/**
 * `npm run stack -- COMMAND` and `deno task stack COMMAND` (bundled to
 * dist/stack.mjs): the management CLI of the Docker Compose stack. The
 * repository is found from this file's location (dist/stack.mjs or
 * commands/stack/cli.ts), so it works from any working directory. See
 * `--help`; the commands are in `cli_commands.ts`.
 *
 * @example
 * ```sh
 * npm run stack -- up
 * npm run stack -- status
 * deno task stack logs grafana --follow
 * ```
 * @module
 */
import process from "node:process";
import { runStackCli } from "./cli_commands.ts";
import { findRepoRoot } from "./docker_host.ts";

let root: string | undefined;
try {
  root = findRepoRoot(import.meta.url);
} catch (error) {
  process.stderr.write(`stack: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
if (root !== undefined) {
  process.exitCode = await runStackCli(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    tty: process.stdout.isTTY === true,
    columns: process.stdout.columns,
  }, { root, cwd: process.cwd() });
}
