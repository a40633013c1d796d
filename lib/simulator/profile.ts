/**
 * A pipeline's simulation profile and the scenarios that bend it, validated
 * by zod (profiles come from a config file).
 *
 * The default profile reproduces the reference stack: ~10 records/s, files
 * of 50–500 records, ~1 failure a minute, five error categories.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROFILE, applyScenario } from "./profile.ts";
 * applyScenario(DEFAULT_PROFILE, "slow").recordsPerSecond; // 2
 * ```
 * @module
 */
import * as z from "zod";
import { BATCH_SCENARIOS } from "./batch.ts";
import { ErrorTypeSchema, KNOWN_ERROR_TYPES, PipelineNameSchema } from "../etl/events.ts";

/** How one pipeline behaves, in profile time (`ETL_SPEED` compresses it). */
export const ProfileSchema = z
  .object({
    recordsPerSecond: z.number().positive().max(1e6).default(10),
    minRecordsPerFile: z.number().int().min(1).default(50),
    maxRecordsPerFile: z.number().int().min(1).default(500),
    /** Failures arrive as a Poisson process while a file is processed. */
    failuresPerMinute: z.number().nonnegative().max(1000).default(1),
    /** Idle time between two files. */
    pauseBetweenFilesSeconds: z.number().nonnegative().max(86_400).default(0.5),
    errorTypes: z.array(ErrorTypeSchema).min(1).default([...KNOWN_ERROR_TYPES]),
  })
  .strict()
  .refine((p) => p.minRecordsPerFile <= p.maxRecordsPerFile, {
    message: "minRecordsPerFile must not exceed maxRecordsPerFile",
  });

/** A validated profile. */
export type Profile = z.infer<typeof ProfileSchema>;

/** The reference stack's behaviour. */
export const DEFAULT_PROFILE: Profile = ProfileSchema.parse({});

/** The file given to `--pipelines-config`: a profile per pipeline name. */
export const PipelinesConfigSchema = z.object({
  pipelines: z.record(PipelineNameSchema, ProfileSchema.optional().default(DEFAULT_PROFILE)),
}).strict();

/**
 * Behaviours that provoke the stack's alerts on purpose; the last four act
 * on batch pipelines only (`--batch-pipelines`, see `batch.ts`), the others
 * leave batch pipelines running normally (stall and crash stop the process).
 */
export const SCENARIOS = ["normal", "stall", "crash", "slow", "error-burst", "low-throughput", ...BATCH_SCENARIOS] as const;
/** One of {@linkcode SCENARIOS}. */
export type Scenario = (typeof SCENARIOS)[number];
/** Validates a scenario name. */
export const ScenarioSchema = z.enum(SCENARIOS);

/**
 * The profile a scenario runs with. `stall` and `crash` keep the profile:
 * the runner stops emitting (stall) or exits (crash).
 */
export function applyScenario(profile: Profile, scenario: Scenario): Profile {
  switch (scenario) {
    case "slow":
      // Files take 25–250 s (the slow-processing alert's threshold is 60 s);
      // fewer failures, or the long files would rarely finish.
      return { ...profile, recordsPerSecond: 2, failuresPerMinute: 0.2 };
    case "error-burst":
      return { ...profile, failuresPerMinute: 30 };
    case "low-throughput":
      // Small files with long pauses: under 1 record/s, yet files still succeed.
      return { ...profile, minRecordsPerFile: 5, maxRecordsPerFile: 20, pauseBetweenFilesSeconds: 20, failuresPerMinute: 0 };
    default:
      return profile;
  }
}
