import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { proposals } from "../../src/db/schema.js";
import { RateLimitedError } from "../../src/services/errors.js";
import { ensureModel } from "../../src/services/models.js";
import { TUNING_MQL_ACTION, TUNING_MQL_BLOCK, TUNING_PREVIEW_BLOCK } from "../../src/slack/ids.js";
import type { ViewStateValues } from "../../src/slack/local/driver.js";
import { OnePerUser, PreviewCache } from "../../src/slack/tuning/preview-limits.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import { eventually, type SlackHarness, startSlackHarness, TEST_REP } from "../support/slack.js";

const METRICS_TOKEN = "metrics-token-0123456789";

interface Block {
  type: string;
  block_id?: string;
  text?: { text?: string };
  element?: { action_id?: string; type?: string; initial_value?: string };
}

describe("preview limits as plain classes", () => {
  it("when three tasks arrive while one runs, then only the first and the newest run, never two at once", async () => {
    const gate = new OnePerUser();
    const ran: number[] = [];
    let inFlight = 0;
    let most = 0;
    let release: () => void = () => {};
    const first = new Promise<void>((r) => {
      release = r;
    });
    const task = (n: number, wait?: Promise<void>) => async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await wait;
      ran.push(n);
      inFlight -= 1;
    };
    const done = gate.run("U1", task(1, first), () => {});
    await Promise.all([2, 3, 4].map((n) => gate.run("U1", task(n), () => {})));
    expect(gate.inFlight).toBe(1);
    release();
    await done;
    expect(ran).toEqual([1, 4]);
    expect(most).toBe(1);
    expect(gate.inFlight).toBe(0);
  });

  it("when a task fails, then the error is reported and the next one still runs", async () => {
    const gate = new OnePerUser();
    const errors: unknown[] = [];
    await gate.run(
      "U1",
      async () => {
        throw new Error("boom");
      },
      (e) => errors.push(e),
    );
    let ran = false;
    await gate.run(
      "U1",
      async () => {
        ran = true;
      },
      () => {},
    );
    expect(errors).toHaveLength(1);
    expect(ran).toBe(true);
  });

  it("when a model version changes, then the cache key changes; the same change hits", () => {
    const cache = new PreviewCache<string>();
    cache.set(PreviewCache.key(3, "thresholds", { mql: 40 }), "v3");
    expect(cache.get(PreviewCache.key(3, "thresholds", { mql: 40 }))).toBe("v3");
    expect(cache.get(PreviewCache.key(4, "thresholds", { mql: 40 }))).toBeUndefined();
    expect(cache.get(PreviewCache.key(3, "thresholds", { mql: 41 }))).toBeUndefined();
    for (let i = 0; i < 1_000; i++) cache.set(`k${i}`, "x");
    expect(cache.size).toBeLessThanOrEqual(200);
  });
});

describe.each(testDatabases())("limits over signed HTTP on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({
      database: tdb.database,
      env: { LEADBOT_PROPOSALS_PER_HOUR: "2", LEADBOT_METRICS_TOKEN: METRICS_TOKEN },
    });
  });

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    await truncateAll(tdb.database.db);
    await ensureModel(tdb.database.db);
    h.standin.reset();
    const r = await h.app.services.upsertLeads(
      Array.from({ length: 20 }, (_, i) => ({ email: `p${i}@acme.com`, employees: 100 * i })),
    );
    expect(r.errors).toEqual([]);
  });

  async function openThresholds(user: string) {
    const res = await h.driver.command(user, "thresholds");
    const opened = await eventually(() =>
      h.standin
        .callsTo("views.open")
        .find((c) => c.params.trigger_id === res.triggerId && c.response),
    );
    const viewId = String((opened.response?.view as { id?: string } | undefined)?.id);
    await eventually(() => (previewOf(viewId).includes("Nothing changed yet") ? true : undefined));
    return viewId;
  }

  function blocksOf(viewId: string): Block[] {
    return (h.standin.views.get(viewId)?.view.blocks ?? []) as Block[];
  }

  function previewOf(viewId: string): string {
    return blocksOf(viewId).find((b) => b.block_id === TUNING_PREVIEW_BLOCK)?.text?.text ?? "";
  }

  function stateOf(viewId: string, edits: Record<string, string>): ViewStateValues {
    const values: ViewStateValues = {};
    for (const b of blocksOf(viewId)) {
      if (b.type !== "input" || !b.block_id || !b.element?.action_id) continue;
      const value = edits[b.block_id] ?? b.element.initial_value ?? null;
      values[b.block_id] = { [b.element.action_id]: { type: b.element.type, value } };
    }
    return values;
  }

  function editMql(user: string, viewId: string, mql: string) {
    const stored = h.standin.views.get(viewId);
    return h.driver.blockAction(user, {
      actionId: TUNING_MQL_ACTION,
      blockId: TUNING_MQL_BLOCK,
      elementType: "number_input",
      view: {
        id: viewId,
        callback_id: String(stored?.view.callback_id),
        private_metadata: String(stored?.view.private_metadata),
        state: { values: stateOf(viewId, { [TUNING_MQL_BLOCK]: mql }) },
      },
    });
  }

  /** Counts the impact measurements the previews ask the services for (the calls pass through). */
  function countPreviews() {
    const services = h.app.services.proposals;
    const original = services.preview;
    const seen = { calls: 0, inFlight: 0, most: 0 };
    services.preview = async (change) => {
      seen.calls += 1;
      seen.inFlight += 1;
      seen.most = Math.max(seen.most, seen.inFlight);
      try {
        return await original(change);
      } finally {
        seen.inFlight -= 1;
      }
    };
    return { seen, restore: () => (services.preview = original) };
  }

  it("when one person fires a burst of edits, then one impact query runs at a time and the preview settles", async () => {
    const viewId = await openThresholds(TEST_REP);
    const counter = countPreviews();
    try {
      const edits = Array.from({ length: 8 }, (_, i) => String(30 + i));
      const answers = await Promise.all(edits.map((mql) => editMql(TEST_REP, viewId, mql)));
      expect(answers.map((a) => a.status)).toEqual(edits.map(() => 200));
      await eventually(() =>
        counter.seen.calls > 0 && counter.seen.inFlight === 0 ? 1 : undefined,
      );
      expect(counter.seen.most).toBe(1);
      expect(counter.seen.calls).toBeLessThanOrEqual(edits.length);
      await eventually(() => (/MQL/.test(previewOf(viewId)) ? true : undefined));
    } finally {
      counter.restore();
    }
  });

  it("when a value already measured on this model comes back, then it is served from the cache", async () => {
    const viewId = await openThresholds(TEST_REP);
    const counter = countPreviews();
    try {
      for (const mql of ["41", "42", "41"]) {
        const before = h.standin.callsTo("views.update").length;
        await editMql(TEST_REP, viewId, mql);
        await eventually(() =>
          h.standin.callsTo("views.update").filter((c) => c.response).length > before
            ? true
            : undefined,
        );
      }
      expect(counter.seen.calls).toBe(2);
    } finally {
      counter.restore();
    }
  });

  it("when a person goes over the proposals an hour, then the modal says the limit and nothing is stored", async () => {
    const s = h.app.services;
    for (const mql of [31, 32]) {
      await s.proposals.create({
        change: { kind: "thresholds", thresholds: { mql } },
        by: TEST_REP,
      });
    }
    await expect(
      s.proposals.create({ change: { kind: "thresholds", thresholds: { mql: 33 } }, by: TEST_REP }),
    ).rejects.toBeInstanceOf(RateLimitedError);
    const viewId = await openThresholds(TEST_REP);
    const stored = h.standin.views.get(viewId);
    const res = await h.driver.viewSubmission(
      TEST_REP,
      {
        id: viewId,
        callback_id: String(stored?.view.callback_id),
        private_metadata: String(stored?.view.private_metadata),
      },
      stateOf(viewId, { [TUNING_MQL_BLOCK]: "34" }),
    );
    expect(res.status).toBe(200);
    const ack = res.json as { response_action?: string; errors?: Record<string, string> };
    expect(ack.response_action).toBe("errors");
    expect(Object.values(ack.errors ?? {}).join(" ")).toContain("the limit is 2 an hour");
    expect(await tdb.database.db.select().from(proposals)).toHaveLength(2);
    // Another person is not held back by this one's count.
    await s.proposals.create({
      change: { kind: "thresholds", thresholds: { mql: 35 } },
      by: "U0SOMEONE1",
    });
  });

  it("when /metrics requires a token, then it is refused without it and served with it", async () => {
    const none = await fetch(`${h.baseUrl}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toContain("LEADBOT_METRICS_TOKEN");
    const wrong = await fetch(`${h.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
    const apiToken = await fetch(`${h.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${h.apiToken}` },
    });
    expect(apiToken.status).toBe(401);
    const right = await fetch(`${h.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("leadbot_");
  });
});
