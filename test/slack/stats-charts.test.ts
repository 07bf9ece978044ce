import { PNG } from "pngjs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CHART_SIZE, SPARK_SIZE } from "../../src/charts/index.js";
import { ensureModel } from "../../src/services/models.js";
import type { StoredFile } from "../../src/slack/local/standin/index.js";
import { RESPONSE_URL } from "../../src/slack/local/standin/server.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_MANAGER,
  textOf,
} from "../support/slack.js";

const CHANNEL = "C0SALESTM1";
const DAY = 86_400_000;

describe.each(testDatabases())("/lead stats and /lead show pictures on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  /** Twenty leads, the more engaged ones won, recorded as a CRM would send them. */
  async function seedOutcomes(): Promise<void> {
    const s = h.app.services;
    const leads = Array.from({ length: 20 }, (_, i) => ({
      email: `buyer${i}@firm${i}.com`,
      title: i % 2 === 0 ? "VP Sales" : "Engineer",
      industry: "Software",
      employees: 300,
      country: "US",
    }));
    expect((await s.upsertLeads(leads)).errors).toEqual([]);
    const now = s.clock();
    const events = leads.flatMap((l, i) =>
      Array.from({ length: i % 6 }, (_, k) => ({
        id: `ev-${i}-${k}`,
        email: l.email,
        type: k === 0 ? "demo_request" : "email_click",
        occurredAt: new Date(now - (k + 1) * DAY).toISOString(),
      })),
    );
    expect((await s.recordEvents(events)).errors).toEqual([]);
    await s.scoring.flush();
    const outcomes = leads.map((l, i) => ({
      lead: l.email,
      outcome: i % 6 >= 3 ? "won" : i % 3 === 0 ? "not_a_fit" : "lost",
      reason: i % 6 < 3 && i % 3 !== 0 ? "no_budget" : undefined,
    }));
    const r = await s.leads.recordOutcomes(outcomes, { by: "api", source: "api" });
    expect(r.errors).toEqual([]);
  }

  function pngSize(file: StoredFile): { width: number; height: number } {
    expect(file.bytes).toBeDefined();
    const png = PNG.sync.read(file.bytes as Buffer);
    return { width: png.width, height: png.height };
  }

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({ database: tdb.database });
  });

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    await truncateAll(tdb.database.db);
    await ensureModel(tdb.database.db);
    h.standin.reset();
    await seedOutcomes();
  });

  it("when /lead stats runs on recorded outcomes, then the text answer comes and both charts are uploaded as PNGs into that channel", async () => {
    const res = await h.driver.command(TEST_MANAGER, "stats 90d", { channelId: CHANNEL });
    expect(res.status).toBe(200);
    const answer = await answerTo(h.standin, res.responseId);
    const text = textOf(answer.payload);
    expect(text).toContain("ROC AUC");
    expect(text).toMatch(/won \*\d+\* · lost \*\d+\* · not a fit \*\d+\*/);

    const files = await eventually(() => {
      const done = h.standin.files().filter((f) => f.completed);
      return done.length >= 2 ? done : undefined;
    });
    expect(files.map((f) => f.name)).toEqual([
      "leadbot-conversion-90d.png",
      "leadbot-scores-90d.png",
    ]);
    for (const f of files) {
      expect(f.channels).toEqual([CHANNEL]);
      expect((f.bytes as Buffer).subarray(1, 4).toString("latin1")).toBe("PNG");
      expect(pngSize(f)).toEqual(CHART_SIZE.default);
    }
    const shared = h.standin.messages(CHANNEL).flatMap((m) => m.files ?? []);
    expect(shared.map((f) => f.id)).toEqual(files.map((f) => f.id));
    // Two uploads: each got its URL, sent its bytes and was completed.
    expect(h.standin.callsTo("files.getUploadURLExternal")).toHaveLength(2);
    expect(h.standin.callsTo("files.completeUploadExternal")).toHaveLength(2);
  });

  it("when Slack refuses the upload, then the text answer still comes with a note saying what to do", async () => {
    h.standin.failNext("files.completeUploadExternal", { error: "not_in_channel" });
    const res = await h.driver.command(TEST_MANAGER, "stats all", { channelId: CHANNEL });
    const first = await answerTo(h.standin, res.responseId);
    expect(textOf(first.payload)).toContain("ROC AUC");
    const note = await eventually(() => h.standin.responses(res.responseId ?? "")[1]);
    expect(textOf(note.payload)).toContain("/invite @Leadbot");
    expect(h.standin.messages(CHANNEL).filter((m) => m.files)).toHaveLength(0);
  });

  it("when /lead show runs, then the answer shows the uploaded score-history sparkline by its file id", async () => {
    const s = h.app.services;
    // A second score for the history: one more event later.
    await s.recordEvents([
      {
        id: "show-extra",
        email: "buyer5@firm5.com",
        type: "webinar_attend",
        occurredAt: new Date(s.clock()).toISOString(),
      },
    ]);
    await s.scoring.flush();
    const res = await h.driver.command(TEST_MANAGER, "show buyer5@firm5.com", {
      channelId: CHANNEL,
    });
    const answer = await answerTo(h.standin, res.responseId);
    const blocks = (answer.payload.blocks ?? []) as {
      type: string;
      slack_file?: { id: string };
    }[];
    const image = blocks.find((b) => b.type === "image");
    expect(image?.slack_file?.id).toMatch(/^F/);
    const file = h.standin.files().find((f) => f.id === image?.slack_file?.id);
    expect(file?.completed).toBe(true);
    // Unshared: the image block shows it; no file message lands in the channel.
    expect(file?.channels).toEqual([]);
    expect(pngSize(file as StoredFile)).toEqual(SPARK_SIZE.default);
    expect(textOf(answer.payload)).toContain("Closed: won");
  });

  it("when Slack refuses the sparkline's image block, then the lead comes again without it", async () => {
    const s = h.app.services;
    await s.recordEvents([
      {
        id: "show-refused",
        email: "buyer5@firm5.com",
        type: "webinar_attend",
        occurredAt: new Date(s.clock()).toISOString(),
      },
    ]);
    h.standin.failNext(RESPONSE_URL, { error: "invalid_blocks" });
    const res = await h.driver.command(TEST_MANAGER, "show buyer5@firm5.com", {
      channelId: CHANNEL,
    });
    const answer = await answerTo(h.standin, res.responseId);
    const blocks = (answer.payload.blocks ?? []) as { type: string }[];
    expect(blocks.some((b) => b.type === "image")).toBe(false);
    expect(textOf(answer.payload)).toContain("buyer5@firm5.com");
    expect(h.standin.responses(res.responseId ?? "")).toHaveLength(1);
  });
});
