import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ModelFileError, parseModelText } from "../../src/core/model-file.js";
import { DEFAULT_MODEL_FILE } from "../../src/services/models.js";

const base = readFileSync(DEFAULT_MODEL_FILE, "utf8");

function errorOf(text: string): ModelFileError {
  try {
    parseModelText(text, "model.yaml");
  } catch (err) {
    if (err instanceof ModelFileError) return err;
    throw err;
  }
  throw new Error("expected the model to be rejected");
}

describe("parseModelText", () => {
  it("when the default model is read, then it validates", () => {
    const m = parseModelText(base, "default");
    expect(m.thresholds).toEqual({ mql: 50, sql: 80, hysteresis: 5 });
    expect(m.engagement.rules.find((r) => r.id === "demo_request")?.points).toBe(30);
  });

  it("when the same model is given as JSON, then it parses too", () => {
    const json = JSON.stringify(parseModelText(base, "default"));
    expect(parseModelText(json, "model.json").name).toBe("Leadbot default");
  });

  it("when a field is invalid, then the error names its line and path", () => {
    const text = base.replace("points: 30, maxCount: 2", "points: 0, maxCount: 2");
    const line = text.split("\n").findIndex((l) => l.includes("id: demo_request")) + 1;
    const err = errorOf(text);
    expect(err.issues).toEqual([
      { path: "engagement.rules.0.points", line, message: "points must not be 0" },
    ]);
    expect(err.message).toContain(
      `model.yaml:${line}: engagement.rules.0.points: points must not be 0`,
    );
  });

  it("when sql is not above mql, then the error points at thresholds.sql", () => {
    const text = base.replace("sql: 80", "sql: 40");
    const err = errorOf(text);
    expect(err.issues[0]?.path).toBe("thresholds.sql");
    expect(err.issues[0]?.line).toBe(text.split("\n").findIndex((l) => l.includes("sql: 40")) + 1);
  });

  it("when a rule uses an unknown operator, then the error says so", () => {
    const err = errorOf(
      base.replace("op: hasWord, values: [director]", "op: regex, values: [director]"),
    );
    expect(err.issues[0]?.path).toMatch(/^fit\.rules\.2\.when\.0/);
  });

  it("when two rules share an id, then the duplicate is reported", () => {
    const err = errorOf(base.replace("id: title_vp", "id: title_c_level"));
    expect(err.issues.some((i) => i.message.includes('duplicate rule id "title_c_level"'))).toBe(
      true,
    );
  });

  it("when a negative rule decays, then the error explains why it cannot", () => {
    const err = errorOf(
      base.replace(
        "id: unsubscribe, label: Unsubscribed, event: unsubscribe, points: -20, maxCount: 1",
        "id: unsubscribe, label: Unsubscribed, event: unsubscribe, points: -20, maxCount: 1, halfLifeDays: 10",
      ),
    );
    expect(err.issues[0]?.path).toMatch(/halfLifeDays$/);
    expect(err.issues[0]?.message).toContain("negative rule cannot decay");
  });

  it("when the YAML itself is broken, then the error gives the line", () => {
    const err = errorOf("name: x\nfit:\n  cap: [1, 2\n");
    expect(err.issues[0]?.line).toBeGreaterThan(0);
  });

  it("when a key is unknown, then it is rejected rather than ignored", () => {
    const err = errorOf(base.replace("thresholds:\n", "thresholds:\n  mqll: 3\n"));
    expect(err.issues[0]?.path).toBe("thresholds");
    expect(err.issues[0]?.message).toMatch(/mqll/);
  });
});
