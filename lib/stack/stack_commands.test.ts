import { describe, expect, it } from "vitest";
import { commandHelp, positionalsOf, STACK_COMMANDS, STACK_USAGE } from "./stack_commands.ts";

describe("help texts", () => {
  it("list every command with its summary", () => {
    for (const [name, spec] of Object.entries(STACK_COMMANDS)) {
      expect(STACK_USAGE).toContain(`  ${spec.usage.split(" | ")[0]!.padEnd(18)} ${spec.summary}\n`);
      expect(name).toMatch(/^[a-z-]+$/);
    }
  });

  it("give each command's flags and then the settings of every command", () => {
    const help = commandHelp("logs");
    expect(help.split("\n").slice(0, 8)).toEqual([
      "Usage: npm run stack -- logs [SERVICE] [flags]",
      "",
      "Prints the logs of every service, or of SERVICE (compose logs).",
      "",
      "Flags (flag, environment variable, default):",
      "  --follow",
      "      Keep printing new lines until Ctrl-C. Default: off.",
      "  --tail VALUE",
    ]);
    expect(help).toContain("Settings of every command:\n  --secrets-dir VALUE  (ETL_SECRETS_DIR)\n");
    expect(commandHelp("scenario").split("\n").slice(0, 2)).toEqual([
      "Usage: npm run stack -- scenario NAME [flags]",
      "       npm run stack -- scenario --status [flags]",
    ]);
    expect(commandHelp("status")).not.toContain("Flags (");
  });
});

describe("positionalsOf", () => {
  it("reads how many arguments a usage allows", () => {
    expect(positionalsOf([""])).toEqual({ name: "", min: 0, max: 0 });
    expect(positionalsOf(["[SERVICE...]"])).toEqual({ name: "SERVICE", min: 0, max: Infinity });
    expect(positionalsOf(["[DIR]"])).toEqual({ name: "DIR", min: 0, max: 1 });
    expect(positionalsOf(["DIR"])).toEqual({ name: "DIR", min: 1, max: 1 });
    expect(positionalsOf(["NAME", "--status"])).toEqual({ name: "NAME", min: 0, max: 1 });
    expect(STACK_COMMANDS.restore.usage).toBe("restore DIR");
    expect(STACK_COMMANDS.down.usage).toBe("down");
    expect(STACK_COMMANDS.scenario.usage).toBe("scenario NAME | scenario --status");
  });
});
