/**
 * The Compose stack as the management CLI knows it: the project, the file,
 * the services and which of them some commands single out.
 *
 * @module
 */

/** The Compose project name the CLI always passes (`-p`). */
export const COMPOSE_PROJECT = "etl-monitoring";

/** The Compose file, relative to the repository root. */
export const COMPOSE_FILE = "deploy/compose/docker-compose.yml";

/** The services of the stack, in the order the CLI reports them. */
export const STACK_SERVICES = [
  "etl-secrets-init",
  "etl-simulator",
  "etl-metrics",
  "etl-alert-receiver",
  "alertmanager",
  "prometheus",
  "grafana",
] as const;

export type StackService = (typeof STACK_SERVICES)[number];

/** Services that run once and exit: done when exited with code 0, not when healthy. */
export const ONE_SHOT_SERVICES: readonly string[] = ["etl-secrets-init"];

/** The services `restart-etl` restarts. */
export const ETL_SERVICES: readonly StackService[] = ["etl-simulator", "etl-metrics"];

/** The image whose `tar` archives and restores the volumes; built by `up`. */
export const BACKUP_IMAGE = "etl-monitoring/etl-metrics:0.1.0";
