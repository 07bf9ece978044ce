import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDemoData } from "../../src/demo/index.js";
import { PROPOSAL_BACKTEST_BLOCK, PROPOSAL_EVIDENCE_BLOCK } from "../../src/slack/ids.js";
import { SUGGEST_WORKING } from "../../src/slack/listeners/commands/suggest.js";
import { type TestDatabase, testDatabases, withDatabase } from "../support/db.js";
import {
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_MANAGER,
  TEST_REP,
  textOf,
} from "../support/slack.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");

describe.each(testDatabases())("/lead suggest over HTTP on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({ database: tdb.database, clock: () => NOW });
    await h.app.services.team.grantRole({ by: TEST_ADMIN, userId: TEST_MANAGER, role: "manager" });
  });

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  /** Every response_url post of `/lead suggest`, once there are `n` of them. */
  async function answers(responseId: string | undefined, n: number) {
    if (!responseId) throw new Error("no response_url");
    return eventually(() => {
      const posts = h.standin.responses(responseId);
      return posts.length >= n ? posts : undefined;
    }, 120_000);
  }

  it("when outcomes are too few, then it says it is working, then how many won and lost it needs and has", async () => {
    await loadDemoData(h.app.services, { seed: 5, leads: 150 });
    const res = await h.driver.command(TEST_REP, "suggest");
    expect(res.status).toBe(200);
    const [working, result] = await answers(res.responseId, 2);
    expect(textOf(working?.payload)).toContain(SUGGEST_WORKING);
    expect(textOf(result?.payload)).toMatch(
      /Not enough outcomes yet: A suggestion needs 30 won and 30 lost or not a fit; there are \d+ and \d+/,
    );
    expect(await h.app.services.proposals.pending()).toEqual([]);
  }, 60_000);

  it("when outcomes suffice, then a proposal reaches the manager with its backtest and evidence, and the requester hears the result", async () => {
    await loadDemoData(h.app.services, { seed: 3, leads: 2_500 });
    const res = await h.driver.command(TEST_REP, "suggest");
    const [working, result] = await answers(res.responseId, 2);
    expect(textOf(working?.payload)).toContain(SUGGEST_WORKING);
    expect(textOf(result?.payload)).toMatch(
      /Suggested model proposed as change #\d+ \(sent to 2 managers for approval\): held-out AUC 0\.\d{3} vs 0\.\d{3} now/,
    );
    const [proposal] = await h.app.services.proposals.pending();
    expect(proposal).toMatchObject({ kind: "model", proposedBy: TEST_REP });

    const posts = h.standin.callsTo("chat.postMessage");
    const toManager = posts.find((c) => c.params.channel === TEST_MANAGER);
    const toChannel = posts.find((c) => c.params.channel === TEST_ALERT_CHANNEL);
    expect(toChannel).toBeDefined();
    const blocks = toManager?.params.blocks as { block_id?: string }[];
    const ids = blocks.map((b) => b.block_id);
    expect(ids).toContain(PROPOSAL_BACKTEST_BLOCK);
    expect(ids).toContain(PROPOSAL_EVIDENCE_BLOCK);
    const text = textOf(blocks);
    expect(text).toMatch(/ROC AUC\*\n0\.\d{3} suggested · 0\.\d{3} now/);
    expect(text).toContain("Precision at MQL");
    expect(text).toContain("Recall at MQL");
    expect(text).toContain("Strongest rules");
  }, 240_000);
});
