/**
 * `npm run secrets`: flags, summary and exit codes around
 * {@linkcode ensureStackSecrets}. Kept apart from `commands/secrets/main.ts` so the
 * tests can run it in-process with their own argv, environment and output.
 *
 * Exit codes: 0 done, 2 bad flags or ETL_TLS_EXTRA_NAMES, 1 the secrets could not be read or written.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { runSecretsCli } from "./cli.ts";
 * process.exitCode = await runSecretsCli(process.argv.slice(2), process.env, {
 *   out: (t) => process.stdout.write(t),
 *   err: (t) => process.stderr.write(t),
 * });
 * ```
 * @module
 */
import {
  CREDENTIAL_NAMES,
  type CredentialName,
  DEFAULT_SECRETS_DIR,
  isCredentialName,
  SECRETS_DIR_ENV,
} from "../../lib/secrets/secrets_layout.ts";
import { parseExtraNames, TLS_EXTRA_NAMES_ENV } from "../../lib/secrets/certificates.ts";
import { ensureCertificates, formatCertificateSummary } from "./ca.ts";
import { ensureStackSecrets, type StackSecretsOptions, type StackSecretsSummary } from "./store.ts";

/**
 * The usage text of `npm run secrets`.
 *
 * @example
 * ```ts
 * console.log(SECRETS_USAGE);
 * ```
 */
export const SECRETS_USAGE = `Usage: npm run secrets -- [--dir DIR] [--rotate [NAME]]... [--rotate-certificates]

Creates every credential of the stack in DIR (mode 0700, files 0600), with
random passwords: existing passwords are kept, and hashes, prometheus-web.yml
and CREDENTIALS.md are brought in line with them. Also a local CA (ca.crt,
ca.key) and a server certificate per service (tls/), renewed within 30 days
of expiry; $${TLS_EXTRA_NAMES_ENV} adds names (comma-separated) to each.

  --dir DIR       the secrets folder (default: $${SECRETS_DIR_ENV}, else ./${DEFAULT_SECRETS_DIR})
  --rotate        replace every password
  --rotate NAME   replace one password; repeatable. NAME is one of:
                  ${CREDENTIAL_NAMES.join(", ")}
  --rotate-certificates  renew every server certificate now (a bare --rotate does too)
  -h, --help      show this text

Exit codes: 0 done, 2 bad flags or $${TLS_EXTRA_NAMES_ENV}, 1 the secrets could not be read or written.
`;

/**
 * What the command line asks for; `help` wins over everything else.
 *
 * @example
 * ```ts
 * const parsed: SecretsArgs = { dir: "secrets", rotate: ["control"], rotateCertificates: false, help: false };
 * ```
 */
export interface SecretsArgs {
  dir: string;
  rotate: boolean | CredentialName[];
  /** Renew the server certificates now. */
  rotateCertificates: boolean;
  help: boolean;
}

/**
 * A command line that cannot be run, with the reason.
 *
 * @example
 * ```ts
 * try { parseSecretsArgs(["--oops"], {}); } catch (e) { e instanceof UsageError; } // true
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Reads the flags. `--rotate` takes the next word as a name unless it is a
 * flag, so `--rotate --dir x` rotates everything; `--rotate=NAME` also works.
 * Throws {@linkcode UsageError} on an unknown flag, a missing value or name.
 *
 * @example
 * ```ts
 * parseSecretsArgs(["--rotate", "control", "--dir", "/tmp/s"], {});
 * // { dir: "/tmp/s", rotate: ["control"], rotateCertificates: false, help: false }
 * parseSecretsArgs([], { ETL_SECRETS_DIR: "/run/s" }).dir; // "/run/s"
 * ```
 */
export function parseSecretsArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SecretsArgs {
  let dir: string | undefined;
  let rotateAll = false;
  const names: CredentialName[] = [];
  let help = false;
  let rotateCertificates = false;

  const rotateName = (name: string) => {
    if (!isCredentialName(name)) {
      throw new UsageError(`--rotate: unknown credential ${JSON.stringify(name)}; one of ${CREDENTIAL_NAMES.join(", ")}`);
    }
    if (!names.includes(name)) names.push(name);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag === "-h" || flag === "--help") {
      help = true;
    } else if (flag === "--dir") {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "" || (inline === undefined && value.startsWith("-"))) {
        throw new UsageError("--dir needs a folder");
      }
      dir = value;
    } else if (flag === "--rotate-certificates" && inline === undefined) {
      rotateCertificates = true;
    } else if (flag === "--rotate") {
      if (inline !== undefined) rotateName(inline);
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) rotateName(argv[++i]!);
      else rotateAll = true;
    } else {
      throw new UsageError(arg.startsWith("-") ? `unknown flag ${arg}` : `unexpected argument ${JSON.stringify(arg)}`);
    }
  }
  const fromEnv = env[SECRETS_DIR_ENV];
  return {
    dir: dir ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : DEFAULT_SECRETS_DIR),
    rotate: rotateAll ? true : names.length > 0 ? names : false,
    rotateCertificates: rotateCertificates || rotateAll,
    help,
  };
}

/**
 * The lines printed after a run: what was created, rotated or kept, and
 * where the reference is. Holds paths and names only, never a password.
 *
 * @example
 * ```ts
 * console.log(formatSecretsSummary(await ensureStackSecrets("secrets")));
 * ```
 */
export function formatSecretsSummary(summary: StackSecretsSummary): string {
  const lines = [`Secrets in ${summary.dir} (folder 0700, files 0600):`];
  const nameWidth = Math.max(...summary.credentials.map((c) => c.name.length));
  const userWidth = Math.max(...summary.credentials.map((c) => c.user.length));
  for (const c of summary.credentials) {
    const state = `password ${c.password}${c.hash === "none" ? "" : `, hash ${c.hash}`}`;
    const weak = c.weak ? `  (shorter than a generated one: --rotate ${c.name} replaces it)` : "";
    lines.push(`  ${c.name.padEnd(nameWidth)}  ${c.user.padEnd(userWidth)}  ${state.padEnd(35)} ${c.passwordFile}${weak}`);
  }
  lines.push(`  Prometheus web config ${summary.webConfig}: ${summary.webConfigFile}`);
  lines.push(`Reference (${summary.reference}): ${summary.referenceFile}`);
  const rotated = summary.credentials.filter((c) => c.password === "rotated").map((c) => c.name);
  if (rotated.length > 0) {
    lines.push(`Rotated ${rotated.join(", ")}: see the reference for what to restart.`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Where {@linkcode runSecretsCli} writes.
 *
 * @example
 * ```ts
 * const io: SecretsCliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
 * ```
 */
export interface SecretsCliIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Runs the command and returns its exit code; never throws. Errors are
 * printed as one line, without a stack trace.
 *
 * @example
 * ```ts
 * const code = await runSecretsCli(["--dir", "/tmp/s"], {}, { out: console.log, err: console.error });
 * ```
 */
export async function runSecretsCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: SecretsCliIo,
  options: Pick<StackSecretsOptions, "cost"> = {},
): Promise<number> {
  let args: SecretsArgs;
  try {
    args = parseSecretsArgs(argv, env);
  } catch (error) {
    io.err(`secrets: ${(error as Error).message}\n\n${SECRETS_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(SECRETS_USAGE);
    return 0;
  }
  try {
    parseExtraNames(env[TLS_EXTRA_NAMES_ENV]); // a bad name stops the run before anything is written
  } catch (error) {
    io.err(`secrets: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const summary = await ensureStackSecrets(args.dir, { rotate: args.rotate, ...options });
    io.out(formatSecretsSummary(summary));
    const certificates = await ensureCertificates(args.dir, { rotate: args.rotateCertificates, extraNames: env[TLS_EXTRA_NAMES_ENV] });
    io.out(formatCertificateSummary(certificates));
    return 0;
  } catch (error) {
    io.err(`secrets: ${(error as Error).message}\n`);
    return 1;
  }
}
