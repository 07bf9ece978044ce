import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { silentLogger } from "../../src/lib/logger.js";
import { DEFAULT_MODEL_FILE, loadModelFile } from "../../src/services/models.js";
import { testDatabases, withDatabase } from "../support/db.js";

const TOKEN = "bootstrap-token-for-proposals-01";
const NOW = Date.parse("2026-11-20T12:00:00Z");

describe.each(testDatabases())("POST /api/v1/proposals on $name", (config) => {
  let app: Leadbot;
  let base: string;
  let cleanup: () => Promise<void>;

  async function post(body: unknown, token: string | null = TOKEN) {
    const res = await fetch(`${base}/api/v1/proposals`, {
      method: "POST",
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    const opened = await withDatabase(config);
    cleanup = opened.cleanup;
    app = await startLeadbot({
      env: loadEnv({
        PORT: "0",
        LEADBOT_API_TOKEN: TOKEN,
        LEADBOT_DEMO: "off",
        LEADBOT_DECAY_CRON: "off",
      }),
      logger: silentLogger,
      clock: () => NOW,
      database: opened.database,
    });
    base = `http://127.0.0.1:${app.port}`;
  });

  afterAll(async () => {
    await app?.stop();
    await cleanup?.();
  });

  it("when a valid model with a new rule is posted, then it is a pending proposal with its diff", async () => {
    const model = loadModelFile();
    model.engagement.rules.push({
      id: "integrations_page",
      label: "Visited the integrations page",
      event: "page_view",
      where: [{ field: "url", op: "containsAny", values: ["/integrations"] }],
      points: 7,
      maxCount: 3,
    });
    const res = await post({ model, by: "U0REP00001", reason: "Integration browsers buy" });
    expect(res.status).toBe(201);
    expect(res.body.proposal).toMatchObject({
      status: "pending",
      baseVersion: 1,
      proposedBy: "U0REP00001",
      changes: [
        'New engagement rule Visited the integrations page (integrations_page): +7 points, on page_view, where url contains "/integrations", at most 3',
      ],
    });
    const [pending] = await app.services.proposals.pending();
    expect(pending).toMatchObject({ kind: "model", note: "Integration browsers buy" });
  });

  it("when the model breaks a rule of the schema, then it is a 422 naming the field", async () => {
    const model = loadModelFile();
    model.thresholds.mql = -10;
    const res = await post({ model, by: "U0REP00001" });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: "model_invalid",
      field: "thresholds.mql",
      message: expect.stringContaining("The MQL threshold must be above 0"),
    });
  });

  it("when the YAML is invalid, then the 422 names the field and its line", async () => {
    const yaml = readFileSync(DEFAULT_MODEL_FILE, "utf8").replace(
      /^grades: \{ A: 35, B: 25, C: 12 \}$/m,
      "grades: { A: 35, B: 40, C: 12 }",
    );
    const line = yaml.split("\n").findIndex((l) => l.startsWith("grades:")) + 1;
    const res = await post({ yaml, by: "U0REP00001" });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: "model_invalid",
      field: "grades.B",
      line,
      message: expect.stringContaining("Grade B must start below grade A (35)"),
    });
  });

  it("when the YAML does not parse, then the 422 gives the line", async () => {
    const res = await post({ yaml: "name: x\nfit: [unclosed\n", by: "U0REP00001" });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe("model_invalid");
    expect(typeof res.body.line).toBe("number");
  });

  it("when both model and yaml, or no proposer, are sent, then it is a 400 saying the shape", async () => {
    const both = await post({ model: {}, yaml: "x: 1", by: "U1" });
    expect(both.status).toBe(400);
    expect(String(both.body.message)).toContain("exactly one of model and yaml");
    const nobody = await post({ yaml: "x: 1" });
    expect(nobody.status).toBe(400);
  });

  it("when no token is sent, then it is a 401", async () => {
    expect((await post({ yaml: "x: 1", by: "U1" }, null)).status).toBe(401);
  });
});
