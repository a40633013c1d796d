/**
 * What every command of the management CLI runs with, and the steps they
 * share: opening the Compose project, showing a path as the reader would
 * type it, waiting until services are ready.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { composeEnvironment } from "../../lib/stack/compose_command.ts";
import { COMPOSE_FILE } from "../../lib/stack/compose_project.ts";
import { COMPOSE_TLS_FILE } from "../../lib/stack/compose_tls.ts";
import { CA_CERT_FILE } from "../../lib/secrets/certificates.ts";
import type { StackCommand } from "../../lib/stack/stack_commands.ts";
import type { StackSettings } from "../../lib/stack/stack_settings.ts";
import { referencePath } from "../secrets/store.ts";
import { ComposeStack, type ProgressIo, waitUntilReady } from "./compose.ts";
import { checkDocker, detectCompose, npmRegistry } from "./docker_host.ts";
import type { Env } from "./run_command.ts";

/**
 * Where the CLI writes; `tty` turns on the ticking progress line.
 *
 * @example
 * ```ts
 * const io: StackIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), tty: false };
 * ```
 */
export type StackIo = ProgressIo;

/**
 * Where the CLI is: the repository root (found from the bundle's location)
 * and the working directory relative paths are read from.
 *
 * @example
 * ```ts
 * const place: StackPlace = { root: "/repo", cwd: process.cwd() };
 * ```
 */
export interface StackPlace {
  root: string;
  cwd: string;
  /** The clock of backup names; tests fix it. */
  now?: () => Date;
}

/** What a command runs with: its arguments and settings, the caller's environment and output, the secrets folder. */
export interface StackContext {
  command: StackCommand;
  args: string[];
  settings: StackSettings;
  env: Env;
  io: StackIo;
  place: StackPlace;
  /** Absolute. */
  secretsDir: string;
  /** The Compose command, when found before the command ran (a given `--compose` is checked first). */
  composeCommand?: string[];
}

/** Docker checked, Compose found, and the project with its environment. */
export async function openStack(ctx: StackContext, options: { registry?: boolean } = {}): Promise<ComposeStack> {
  const { settings, place, env } = ctx;
  await checkDocker(env);
  const command = ctx.composeCommand ?? await detectCompose(settings.compose, env);
  const file = settings.composeFile === undefined ? join(place.root, COMPOSE_FILE) : resolve(place.cwd, settings.composeFile);
  const composeEnv = composeEnvironment(env, {
    secretsDir: ctx.secretsDir,
    npmRegistry: options.registry ? await npmRegistry(env) : undefined,
    bindAddress: settings.bindAddress,
    ports: settings,
  });
  // TLS mode: the override on top, from the repository whatever the Compose file.
  const overrides = settings.tls ? [join(place.root, COMPOSE_TLS_FILE)] : [];
  return new ComposeStack({ command, project: settings.project, file, overrides }, composeEnv);
}

/** The CA the CLI trusts in TLS mode (`npm run secrets` makes it), or undefined in plain mode. */
export function caFileOf(ctx: StackContext): string | undefined {
  return ctx.settings.tls ? join(ctx.secretsDir, CA_CERT_FILE) : undefined;
}

/** The secrets folder as the reader should type it. */
export const shown = (ctx: StackContext, path: string) => referencePath(path, ctx.place.cwd);

/** Waits until `services` are ready, showing progress (see `waitUntilReady`). */
export function waitReady(ctx: StackContext, stack: ComposeStack, services: readonly string[], timeoutSeconds: number, onlyLook?: string): Promise<void> {
  return waitUntilReady(stack, services, ctx.io, { timeoutSeconds, onlyLook });
}
