/**
 * `npm run scenario -- stall`: switches the running simulator's scenario
 * through its `/control/scenario` endpoint; `--status` shows the current one.
 * The work is in `commands/scenario/scenario_cli.ts`, shared with
 * `npm run stack -- scenario`.
 *
 *     npm run scenario -- stall
 *     npm run scenario -- --status
 *     npm run scenario -- --url http://127.0.0.1:8000 --password-file secrets/control_password normal
 *
 * Exit codes: 0 done; 1 the simulator could not be asked (not running, wrong
 * password, password file missing, server error); 2 the command was wrong
 * (bad flags, no scenario, a scenario the simulator refuses).
 *
 * @module
 */
import process from "node:process";
import { main } from "./scenario_cli.ts";

process.exitCode = await main(process.argv.slice(2), process.env);
