import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRows } from "../../src/db/client.js";
import { HOME_FOUND_NEXT, LEAD_MENU, LIST_PAGE } from "../../src/slack/blocks/ids.js";
import {
  ALERT_ACTIONS_BLOCK,
  ALERT_CLAIM,
  ALERT_LOST,
  ALERT_NOT_A_FIT,
  ALERT_WON,
  decodeAlertAction,
  PROPOSAL_APPROVE,
  PROPOSAL_REJECT,
  TUNING_THRESHOLDS_MODAL,
  TUNING_WEIGHTS_MODAL,
} from "../../src/slack/ids.js";
import { FORM_INTERNAL_ERROR, INTERNAL_ERROR } from "../../src/slack/listeners/respond.js";
import type { ViewStateValues } from "../../src/slack/local/driver.js";
import { type TestDatabase, testDatabases, withDatabase } from "../support/db.js";
import {
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_REP,
  textOf,
} from "../support/slack.js";

/**
 * Properties over what a Slack user controls, sent signed over HTTP to the running app: `/lead`
 * text, button values and modal state. Each ends in a 200 with a sentence, an opened form or a
 * stored item; never a 5xx, the generic "something went wrong", or a write the answer denies.
 */

/** Fewer runs than the parser-level properties: each one is a real request through Bolt. */
const RUNS = 30;
const LEADS = 5;

const hostile = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("", "null", "{}", "[]", "-1", "1e309", "\u0000", "😀", '{"alertId":"x"}'),
  fc.constantFrom('{"alertId":1,"leadId":1}', '{"leadId":99999}', '{"q":"top","limit":-5}'),
  fc.constantFrom('{"q":"find","limit":20,"offset":0,"text":"<!channel>"}', "why:1", "show:abc"),
  fc.json({ maxDepth: 2 }),
);

describe.each(testDatabases())("Slack inputs over signed HTTP on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({
      database: tdb.database,
      env: { LEADBOT_PROPOSALS_PER_HOUR: "100000" },
    });
    const r = await h.app.services.upsertLeads(
      Array.from({ length: LEADS }, (_, i) => ({
        email: `fuzz${i}@acme.com`,
        firstName: `Fuzz ${i}`,
        employees: 500,
        owner: TEST_REP,
      })),
    );
    expect(r.errors).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  async function count(table: "outcomes" | "proposals" | "leads"): Promise<number> {
    const [row] = await execRows<{ n: number }>(
      tdb.database.db,
      sql`select count(*)::int as n from ${sql.identifier(table)}`,
    );
    return Number(row?.n ?? 0);
  }

  /** Every answer the app gave so far: response_url posts and messages it sent. */
  function everything(): string {
    return [
      ...h.standin.responsePosts.map((p) => textOf(p.payload)),
      ...h.standin.calls.map((c) => textOf(c.params)),
    ].join("\n");
  }

  /** Waits until the app answered a request: in the ack, on its response_url, or by a call. */
  async function settled(responseId: string | undefined, calls: number, ackBody: string) {
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      if (ackBody !== "") return "ack";
      if (responseId && h.standin.responses(responseId).length > 0) return "response";
      if (h.standin.calls.length > calls && h.standin.calls.every((c) => c.response)) return "call";
      await new Promise((r) => setTimeout(r, 20));
    }
    return "silent";
  }

  async function alive(): Promise<void> {
    const res = await fetch(`${h.baseUrl}/healthz`);
    expect(res.status).toBe(200);
  }

  it("when any /lead text is typed, then an answer comes, never an internal error", async () => {
    const word = fc.constantFrom("top", "show", "why", "find", "won", "lost", "assign", "stats");
    const text = fc
      .tuple(
        word,
        fc.array(fc.oneof(hostile, fc.constantFrom("fuzz1@acme.com", "id:1")), {
          maxLength: 3,
        }),
      )
      .map(([w, rest]) => [w, ...rest].join(" "));
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const calls = h.standin.calls.length;
        const posts = h.standin.responsePosts.length;
        const res = await h.driver.command(TEST_REP, t);
        expect(res.status).toBe(200);
        const how = await settled(res.responseId, calls, res.body);
        expect(how).not.toBe("silent");
        expect(res.body).not.toContain(INTERNAL_ERROR);
        // The answer posted later is checked here too, so a failure names the text that caused it.
        const answers = h.standin.responsePosts.slice(posts).map((p) => textOf(p.payload));
        expect(answers.join("\n")).not.toContain(INTERNAL_ERROR);
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? RUNS),
        // Text Postgres cannot compare: once as a key, once as a search.
        examples: [["won \u0000"], ["why ext:a\u0000"], ["find a\u0000b"], ["show \ud800"]],
      },
    );
    expect(everything()).not.toContain(INTERNAL_ERROR);
    await alive();
  }, 120_000);

  /** The outcome count once it has stopped moving (two reads 100 ms apart agree). */
  const stableOutcomes = async (): Promise<number> => {
    let last = await count("outcomes");
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await count("outcomes");
      if (now === last) return now;
      last = now;
    }
  };

  it("when any button value is sent, then it is refused with a sentence or acts once", async () => {
    const action = fc.constantFrom(
      ALERT_WON,
      ALERT_NOT_A_FIT,
      ALERT_CLAIM,
      ALERT_LOST,
      LIST_PAGE,
      HOME_FOUND_NEXT,
      LEAD_MENU,
      PROPOSAL_APPROVE,
      PROPOSAL_REJECT,
    );
    await fc.assert(
      fc.asyncProperty(action, hostile, async (actionId, value) => {
        // A button of the previous run may record its outcome after its answer: wait it out.
        const outcomesBefore = await stableOutcomes();
        const calls = h.standin.calls.length;
        const res = await h.driver.blockAction(TEST_ADMIN, {
          actionId,
          blockId: ALERT_ACTIONS_BLOCK,
          ...(actionId === LEAD_MENU
            ? {
                elementType: "overflow",
                selectedOption: { text: { type: "plain_text", text: "x" }, value },
              }
            : { value }),
          message: { ts: "1700000000.000100", blocks: [] },
        });
        expect(res.status).toBe(200);
        await settled(res.responseId, calls, res.body);
        const added = (await stableOutcomes()) - outcomesBefore;
        const ref = decodeAlertAction(value);
        if ((actionId === ALERT_WON || actionId === ALERT_NOT_A_FIT) && ref) {
          // A value naming a real lead may record its outcome: once at most.
          expect(added).toBeLessThanOrEqual(1);
          expect(added).toBeGreaterThanOrEqual(0);
        } else {
          expect(added).toBe(0);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? RUNS) + 10 },
    );
    expect(everything()).not.toContain(INTERNAL_ERROR);
    await alive();
  }, 120_000);

  it("when any modal state is submitted, then field errors come back or one proposal is stored", async () => {
    const block = fc.constantFrom(
      "tuning_mql",
      "tuning_sql",
      "tuning_hysteresis",
      "tuning_note",
      "tuning_w:demo_request",
      "tuning_w:nope",
      "other",
    );
    const element = fc.record({
      type: fc.constantFrom("number_input", "plain_text_input", "static_select", "x"),
      value: fc.oneof(hostile, fc.integer({ min: -200, max: 400 }).map(String), fc.constant(null)),
    });
    const state = fc.dictionary(
      block,
      fc.dictionary(fc.constantFrom("tuning_mql_input", "tuning_note_input", "a"), element, {
        maxKeys: 2,
      }),
      { maxKeys: 5 },
    );
    const metadata = fc.oneof(
      hostile,
      fc.constantFrom('{"kind":"thresholds","version":1}', '{"kind":"weights","version":1}'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(TUNING_THRESHOLDS_MODAL, TUNING_WEIGHTS_MODAL),
        state,
        metadata,
        async (callbackId, values, meta) => {
          const before = await count("proposals");
          const res = await h.driver.viewSubmission(
            TEST_REP,
            { id: "V0FUZZ", callback_id: callbackId, private_metadata: meta },
            values as ViewStateValues,
          );
          expect(res.status).toBe(200);
          const ack = (res.body === "" ? {} : res.json) as {
            response_action?: string;
            errors?: Record<string, string>;
          };
          if (ack.response_action === "errors") {
            const messages = Object.values(ack.errors ?? {});
            expect(messages.length).toBeGreaterThan(0);
            for (const m of messages) expect(m).not.toBe(FORM_INTERNAL_ERROR);
            expect(await count("proposals")).toBe(before);
          } else {
            // Accepted: the proposal is stored, or the proposer is told by DM why it was not.
            const dm = h.standin.dmChannel(TEST_REP);
            const dms = h.standin.messages(dm).length;
            const until = Date.now() + 5_000;
            let after = await count("proposals");
            while (after === before && h.standin.messages(dm).length === dms) {
              expect(Date.now()).toBeLessThan(until);
              await new Promise((r) => setTimeout(r, 25));
              after = await count("proposals");
            }
            expect(after - before).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(everything()).not.toContain("could not store your proposed change");
    await alive();
  }, 120_000);
});
