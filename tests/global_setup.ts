// The end-to-end tests run the bundles the containers run: build them once.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["commands/build/bundle.mjs"], { stdio: "inherit" });
}
