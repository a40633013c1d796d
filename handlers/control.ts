/**
 * The simulator's control endpoint: read and switch the running scenario.
 *
 *     GET  /control/scenario                      -> 200 {"scenario":"normal","since":"2026-11-23T10:00:00.000Z"}
 *     PUT  /control/scenario {"scenario":"stall"} -> 200 {"scenario":"stall","since":"…"}
 *
 * POST is accepted like PUT, for clients that only do POST. Every route sits
 * behind the `auth` middleware given, since switching to `crash` ends the
 * process. The handlers keep no state: where the scenario lives is the
 * {@linkcode ScenarioControl} passed in.
 *
 * @example
 * ```ts
 * import { createControlApp } from "./control.ts";
 * const control = createControlApp({ control: scenarioControl, auth: basicAuth(verifier, { realm: "etl-control" }) });
 * app.route("/", control);
 * // curl -u "control:$(cat secrets/control_password)" -X PUT -H 'Content-Type: application/json' \
 * //   -d '{"scenario":"stall"}' http://127.0.0.1:8000/control/scenario
 * ```
 * @module
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod";
import { type Scenario, SCENARIOS, ScenarioSchema } from "../lib/simulator/profile.ts";
import { readJsonBody } from "./json_body.ts";
import { securityHeaders } from "./security_headers.ts";

/**
 * Where the scenario lives: the simulator in production, a plain object in tests.
 *
 * @example
 * ```ts
 * let state = { scenario: "normal" as Scenario, sinceMs: Date.now() };
 * const control: ScenarioControl = {
 *   current: () => state,
 *   set: (scenario) => (state = { scenario, sinceMs: Date.now() }),
 * };
 * ```
 */
export interface ScenarioControl {
  /** The scenario running, and since when (Unix ms). */
  current(): { scenario: Scenario; sinceMs: number };
  /** Switches; setting the scenario already running should change nothing. */
  set(scenario: Scenario): void;
}

/**
 * Options of {@linkcode createControlApp}.
 *
 * @example
 * ```ts
 * const options: ControlAppOptions = { control, auth: basicAuth(verifier, { realm: "etl-control" }) };
 * ```
 */
export interface ControlAppOptions {
  control: ScenarioControl;
  /** Put in front of every route; required, because `crash` stops the process. */
  auth: MiddlewareHandler;
}

/**
 * The body of `PUT /control/scenario`. Unknown fields are refused, so a
 * typo such as `{"scenarion": "stall"}` is an error rather than a no-op.
 *
 * @example
 * ```ts
 * ScenarioRequestSchema.parse({ scenario: "stall" }); // { scenario: "stall" }
 * ScenarioRequestSchema.safeParse({ scenario: "boom" }).success; // false
 * ```
 */
export const ScenarioRequestSchema = z.strictObject({ scenario: ScenarioSchema });

/**
 * What `GET` and `PUT /control/scenario` answer.
 *
 * @example
 * ```ts
 * const body: ScenarioState = { scenario: "stall", since: "2026-11-23T10:00:00.000Z" };
 * ```
 */
export interface ScenarioState {
  scenario: Scenario;
  /** RFC 3339 time of the switch (or of the start, for the first scenario). */
  since: string;
}

/**
 * The path of the endpoint.
 *
 * @example
 * ```ts
 * await fetch(`http://127.0.0.1:8000${CONTROL_PATH}`, { headers: { authorization } });
 * ```
 */
export const CONTROL_PATH = "/control/scenario";

// A body is `{"scenario":"low-throughput"}`; anything near this size is not a request we serve.
const MAX_BODY_BYTES = 4096;
const VALID = SCENARIOS.join(", ");

/**
 * The message of a 400 for a body that parsed as JSON but is not a request:
 * it names the problem and always lists the valid scenarios.
 *
 * @example
 * ```ts
 * scenarioRequestProblem({ scenario: "boom" });
 * // 'unknown scenario "boom"; valid scenarios: normal, stall, crash, slow, error-burst, low-throughput, late, hung, empty, volume-drop'
 * scenarioRequestProblem({ scenario: "stall" }); // null
 * ```
 */
export function scenarioRequestProblem(body: unknown): string | null {
  const parsed = ScenarioRequestSchema.safeParse(body);
  if (parsed.success) return null;
  const record = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  let problem: string;
  if (record === null) problem = 'expected a JSON object such as {"scenario": "stall"}';
  else if (!("scenario" in record)) problem = 'missing field "scenario"';
  else if (typeof record.scenario !== "string") problem = '"scenario" must be a string';
  else if (!ScenarioSchema.safeParse(record.scenario).success) problem = `unknown scenario ${JSON.stringify(record.scenario)}`;
  else problem = `unknown field ${Object.keys(record).filter((k) => k !== "scenario").map((k) => JSON.stringify(k)).join(", ")}`;
  return `${problem}; valid scenarios: ${VALID}`;
}

function stateOf(control: ScenarioControl): ScenarioState {
  const { scenario, sinceMs } = control.current();
  return { scenario, since: new Date(sinceMs).toISOString() };
}

/**
 * Makes the handler of `PUT` (and `POST`) `/control/scenario`: 415 unless
 * the body is declared JSON, 400 with the valid scenarios when it is not a
 * request, else switches and answers 200 with the new state.
 *
 * @example
 * ```ts
 * app.put("/control/scenario", setScenarioHandler(control));
 * ```
 */
export function setScenarioHandler(control: ScenarioControl): (c: Context) => Promise<Response> {
  return async (c) => {
    const read = await readJsonBody(c, {
      notJson: 'send the body as JSON (Content-Type: application/json), such as {"scenario": "stall"}',
      unparsable: (why) => `body is not JSON (${why}); send {"scenario": "stall"}; valid scenarios: ${VALID}`,
    });
    if (!read.ok) return read.response;
    const body = read.value;
    const problem = scenarioRequestProblem(body);
    if (problem !== null) return c.json({ error: problem }, 400);
    control.set(ScenarioRequestSchema.parse(body).scenario);
    return c.json(stateOf(control));
  };
}

/**
 * Makes the handler of `GET /control/scenario`: the running scenario and since when.
 *
 * @example
 * ```ts
 * app.get("/control/scenario", getScenarioHandler(control));
 * // {"scenario":"normal","since":"2026-11-23T10:00:00.000Z"}
 * ```
 */
export function getScenarioHandler(control: ScenarioControl): (c: Context) => Response {
  return (c) => c.json(stateOf(control));
}

/**
 * Builds the control routes as a Hono app, to mount with `app.route("/", …)`.
 * Other methods on the path get 405 with `Allow`; a body over 4 KiB gets 413.
 *
 * @example
 * ```ts
 * const app = createApp({ title: "ETL simulator", source });
 * app.route("/", createControlApp({ control, auth: basicAuth(verifier, { realm: "etl-control" }) }));
 * ```
 */
export function createControlApp(options: ControlAppOptions): Hono {
  const { control, auth } = options;
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    // The rest of the body is never read, so the connection cannot carry another request.
    onError: (c) => c.json({ error: `body over ${MAX_BODY_BYTES} bytes; send {"scenario": "stall"}` }, 413, { Connection: "close" }),
  });
  const app = new Hono();
  app.use(securityHeaders());
  app.use("/control/*", auth);
  app.get(CONTROL_PATH, getScenarioHandler(control));
  app.put(CONTROL_PATH, limit, setScenarioHandler(control));
  app.post(CONTROL_PATH, limit, setScenarioHandler(control));
  app.all(CONTROL_PATH, (c) => c.json({ error: `method ${c.req.method} not allowed; use GET, PUT or POST` }, 405, { Allow: "GET, PUT, POST" }));
  return app;
}
