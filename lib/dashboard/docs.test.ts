import { describe, expect, it } from "vitest";
import { buildDashboard } from "./dashboard.ts";
import { documentedPanels, PANEL_TABLE_END, PANEL_TABLE_START, panelTable, questionOf, withPanelTable } from "./docs.ts";

describe("the panel table", () => {
  it("has one line per panel, rows left out, with every query", () => {
    const dashboard = buildDashboard();
    const panels = documentedPanels(dashboard);
    const lines = panelTable(dashboard).split("\n");
    expect(lines).toHaveLength(2 + panels.length);
    expect(lines.join("\n")).not.toContain("(row)");
    for (const p of panels) for (const t of p.targets) expect(lines.join("\n")).toContain(t.expr.replaceAll("|", "\\|"));
  });

  it("takes the question from the description", () => {
    expect(questionOf("Is it up? More.")).toBe("Is it up?");
    expect(questionOf("No question.")).toBe("");
  });

  it("replaces only what is between the markers, and needs them", () => {
    const dashboard = buildDashboard();
    const readme = `before\n${PANEL_TABLE_START}\nSTALE-TABLE\n${PANEL_TABLE_END}\nafter\n`;
    const out = withPanelTable(readme, dashboard);
    expect(out.startsWith(`before\n${PANEL_TABLE_START}\n| panel |`)).toBe(true);
    expect(out.endsWith(`${PANEL_TABLE_END}\nafter\n`)).toBe(true);
    expect(out).not.toContain("STALE-TABLE");
    expect(withPanelTable(out, dashboard)).toBe(out);
    expect(() => withPanelTable("no markers", dashboard)).toThrow(/markers/);
  });
});
