import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Services } from "../../src/services/index.js";
import { ensureModel } from "../../src/services/models.js";
import { BURST_LIST, BURST_METADATA_EVENT, decodeBurstPage } from "../../src/slack/blocks/burst.js";
import { ALERT_METADATA_EVENT } from "../../src/slack/ids.js";
import type { StoredMessage } from "../../src/slack/local/standin/store.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_REP,
} from "../support/slack.js";

/**
 * A model change that crosses many leads at once, through the real app: the channel gets one
 * summary and each owner one direct message, while crossings from new events still alert lead by
 * lead. LEADBOT_ALERT_BURST is 5 here.
 */

const BURST = 5;
const OWNERS = ["U0OWNER001", "U0OWNER002"];

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  elements?: { action_id?: string; value?: string }[];
}

function ofKind(messages: StoredMessage[], eventType: string): StoredMessage[] {
  return messages.filter((m) => m.metadata?.event_type === eventType);
}

function blockText(message: { blocks?: unknown[] | undefined }): string {
  return ((message.blocks ?? []) as Block[]).map((b) => b.text?.text ?? "").join("\n");
}

/** Leads that only their fit scores: the same title and company size, so the same score. */
async function seedLeads(services: Services, n: number, tag: string): Promise<number[]> {
  const r = await services.upsertLeads(
    Array.from({ length: n }, (_, i) => ({
      email: `${tag}${i}@fitco${i}.com`,
      firstName: "Fit",
      lastName: `${tag} ${i}`,
      title: "VP Marketing",
      company: `FitCo ${i}`,
      industry: "Software",
      employees: 800,
      country: "US",
      owner: OWNERS[i % OWNERS.length],
    })),
  );
  expect(r.errors).toEqual([]);
  return r.leads.map((l) => l.id);
}

/** Proposes a lower MQL (by a rep) and approves it (by the admin), as the Slack modal does. */
async function lowerMql(services: Services, mql: number) {
  const { proposal } = await services.proposals.create({
    change: { kind: "thresholds", thresholds: { mql } },
    by: TEST_REP,
  });
  return services.proposals.decide({ id: proposal.id, by: TEST_ADMIN, decision: "approve" });
}

/** An MQL threshold every seeded lead reaches: just under the lowest of their scores. */
async function mqlUnder(services: Services, ids: number[]): Promise<number> {
  const scores = await Promise.all(
    ids.map(async (id) => (await services.leads.get(String(id))).score),
  );
  const lowest = Math.min(...scores);
  expect(lowest).toBeGreaterThan(1);
  const { model } = await services.models.active();
  expect(lowest).toBeLessThan(model.thresholds.mql);
  return Math.floor(lowest) - 0.5 > 0 ? Math.floor(lowest) - 0.5 : lowest / 2;
}

describe.each(testDatabases())("alert bursts end to end on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({
      database: tdb.database,
      env: { LEADBOT_ALERT_BURST: String(BURST) },
      alertPollMs: 50,
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
  });

  it("when an approved threshold moves more leads than the burst, then the channel gets one summary, each owner one DM, and no per-lead alert", async () => {
    const services = h.app.services;
    const ids = await seedLeads(services, 12, "burst");
    const result = await lowerMql(services, await mqlUnder(services, ids));
    expect(result.rescore?.transitions).toBe(12);
    expect(result.rescore?.summarised).toBe(true);

    const digests = await eventually(() => {
      const dms = OWNERS.map((o) =>
        ofKind(h.standin.messages(h.standin.dmChannel(o)), BURST_METADATA_EVENT),
      );
      const summaries = ofKind(h.standin.messages(TEST_ALERT_CHANNEL), BURST_METADATA_EVENT);
      return summaries.length > 0 && dms.every((d) => d.length > 0) ? dms : undefined;
    });
    const channel = h.standin.messages(TEST_ALERT_CHANNEL);
    const [summary, ...others] = ofKind(channel, BURST_METADATA_EVENT);
    expect(others).toEqual([]);
    expect(ofKind(channel, ALERT_METADATA_EVENT)).toEqual([]);
    expect(summary?.text).toMatch(/^Model v2 moved 12 leads to MQL\./);
    expect(blockText(summary ?? {})).toContain("*Top 10:*");
    for (const [i, owner] of OWNERS.entries()) {
      expect(digests[i]).toHaveLength(1);
      const text = blockText(digests[i]?.[0] ?? {});
      expect(text).toContain(`6 leads of yours, <@${owner}>`);
      expect(text.match(/^\d+\. \*Fit burst \d+\*/gm)).toHaveLength(6);
    }
    // No DM of a per-lead alert either: the owners heard once (the proposal's own messages aside).
    const leadPosts = h.standin.callsTo("chat.postMessage").filter((c) => {
      const metadata = c.params.metadata;
      const text = typeof metadata === "string" ? metadata : JSON.stringify(metadata ?? {});
      return text.includes(ALERT_METADATA_EVENT) || text.includes(BURST_METADATA_EVENT);
    });
    expect(leadPosts).toHaveLength(3);

    // "List all" answers the clicker with every lead, paged.
    const button = ((summary?.blocks ?? []) as Block[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === BURST_LIST);
    expect(decodeBurstPage(button?.value)).toMatchObject({ o: 0 });
    const res = await h.driver.blockAction(TEST_REP, {
      actionId: BURST_LIST,
      ...(button?.value !== undefined ? { value: button.value } : {}),
      message: { ts: summary?.ts ?? "", blocks: summary?.blocks ?? [], text: summary?.text ?? "" },
      channel: { id: TEST_ALERT_CHANNEL },
    });
    const answer = await answerTo(h.standin, res.responseId);
    expect(answer.payload).toMatchObject({ response_type: "ephemeral", replace_original: false });
    const listed = blockText(answer.payload as { blocks?: unknown[] });
    expect(listed).toContain("Leads 1–12 of 12");
    expect(listed.match(/^\d+\. \*Fit burst \d+\*/gm)).toHaveLength(12);
  });

  it("when an approved threshold moves no more leads than the burst, then each gets its own alert", async () => {
    const services = h.app.services;
    const ids = await seedLeads(services, BURST, "few");
    const result = await lowerMql(services, await mqlUnder(services, ids));
    expect(result.rescore?.summarised).toBe(false);
    const alerts = await eventually(() => {
      const a = ofKind(h.standin.messages(TEST_ALERT_CHANNEL), ALERT_METADATA_EVENT);
      return a.length === BURST ? a : undefined;
    });
    expect(alerts.map((a) => Number(a.metadata?.event_payload.lead_id)).sort()).toEqual(
      [...ids].sort(),
    );
    expect(ofKind(h.standin.allMessages(), BURST_METADATA_EVENT)).toEqual([]);
  });

  it("when events cross a lead while a model change is summarised, then that lead still gets its own alert", async () => {
    const services = h.app.services;
    const ids = await seedLeads(services, 12, "mixed");
    const mql = await mqlUnder(services, ids);
    const hot = "hot@eventco.com";
    const at = new Date().toISOString();
    await Promise.all([
      lowerMql(services, mql),
      services.recordEvents(
        ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
          id: `hot-${i}`,
          email: hot,
          type,
          occurredAt: at,
        })),
      ),
    ]);
    const channel = await eventually(() => {
      const m = h.standin.messages(TEST_ALERT_CHANNEL);
      return ofKind(m, BURST_METADATA_EVENT).length === 1 &&
        ofKind(m, ALERT_METADATA_EVENT).length === 1
        ? m
        : undefined;
    });
    const [alert] = ofKind(channel, ALERT_METADATA_EVENT);
    expect(alert?.text).toContain(hot);
    const hotId = await services.leads.resolveId(hot);
    expect(ids).not.toContain(hotId);
    expect(Number(alert?.metadata?.event_payload.lead_id)).toBe(hotId);
  });
});
