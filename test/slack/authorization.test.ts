import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { leads, outcomes } from "../../src/db/schema.js";
import { ensureModel } from "../../src/services/models.js";
import { FOREIGN_TEAM_REFUSAL, GUEST_REFUSAL } from "../../src/slack/guard.js";
import { ALERT_ACTIONS_BLOCK, ALERT_WON } from "../../src/slack/ids.js";
import { createSlackDriver } from "../../src/slack/local/driver.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  hotLeadAlert,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_MANAGER,
  TEST_REP,
  TEST_REP2,
  textOf,
  waitForCall,
} from "../support/slack.js";

const GUEST = "U0GUEST001";
const OUTSIDER = "U0OUTSIDE1";

interface Block {
  block_id?: string;
  elements?: { action_id?: string; value?: string }[];
}

describe.each(testDatabases())("who may do what in Slack, on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

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
    h.standin.addUser({ id: GUEST, name: "guest", is_restricted: true });
    await h.app.services.team.grantRole({ by: TEST_ADMIN, userId: TEST_MANAGER, role: "manager" });
    const r = await h.app.services.upsertLeads([
      { email: "owned@acme.com", firstName: "Owned", owner: TEST_REP },
      { email: "free@acme.com", firstName: "Free" },
    ]);
    expect(r.errors).toEqual([]);
  });

  async function ask(user: string, text: string, driver = h.driver): Promise<string> {
    const res = await driver.command(user, text);
    expect(res.status).toBe(200);
    if (res.body !== "") return textOf(res.json);
    return textOf((await answerTo(h.standin, res.responseId)).payload);
  }

  /** Every text of an answer is the one sentence: nothing else is shown. */
  function onlySays(payload: unknown): Set<string> {
    return new Set(textOf(payload).split("\n"));
  }

  async function ownerOf(email: string): Promise<string | null> {
    const [row] = await tdb.database.db
      .select({ owner: leads.owner })
      .from(leads)
      .where(eq(leads.email, email));
    return row?.owner ?? null;
  }

  it("when a rep assigns someone else's lead, then it is refused and the owner stays", async () => {
    const text = await ask(TEST_REP2, `assign owned@acme.com <@${TEST_REP2}|sam>`);
    expect(text).toContain("owner, a manager or an admin");
    expect(await ownerOf("owned@acme.com")).toBe(TEST_REP);
  });

  it("when the owner, a manager or an admin re-assigns a lead, then it moves", async () => {
    expect(await ask(TEST_REP, `assign owned@acme.com <@${TEST_REP2}|sam>`)).toContain(
      "now belongs to",
    );
    expect(await ownerOf("owned@acme.com")).toBe(TEST_REP2);
    await ask(TEST_MANAGER, `assign owned@acme.com <@${TEST_REP}|rep>`);
    expect(await ownerOf("owned@acme.com")).toBe(TEST_REP);
    await ask(TEST_ADMIN, `assign owned@acme.com <@${TEST_MANAGER}|m>`);
    expect(await ownerOf("owned@acme.com")).toBe(TEST_MANAGER);
  });

  it("when a rep assigns an unowned lead, then to themselves it works and to another it is refused", async () => {
    const refused = await ask(TEST_REP2, `assign free@acme.com <@${TEST_REP}|rep>`);
    expect(refused).toContain("assign it to yourself");
    expect(await ownerOf("free@acme.com")).toBeNull();
    await ask(TEST_REP2, `assign free@acme.com <@${TEST_REP2}|sam>`);
    expect(await ownerOf("free@acme.com")).toBe(TEST_REP2);
  });

  it("when a rep changes another person's recorded outcome, then it is refused; a manager may", async () => {
    expect(await ask(TEST_REP, "won owned@acme.com")).toContain("marked *won*");
    const refused = await ask(TEST_REP2, "lost owned@acme.com no_budget");
    expect(refused).toContain("only a manager or an admin can change that");
    expect(await ask(TEST_REP, "lost owned@acme.com no_budget")).toContain("marked *lost*");
    expect(await ask(TEST_MANAGER, "won owned@acme.com")).toContain("marked *won*");
    const rows = await tdb.database.db.select().from(outcomes);
    expect(rows.map((r) => [r.outcome, r.byUser])).toEqual([
      ["won", TEST_REP],
      ["lost", TEST_REP],
      ["won", TEST_MANAGER],
    ]);
  });

  it("when a user of another workspace types a command or presses a button, then a sentence comes back and no data", async () => {
    const foreign = createSlackDriver({
      url: `${h.baseUrl}/slack/events`,
      signingSecret: h.signingSecret,
      standin: h.standin,
      teamId: "T0OTHER001",
    });
    for (const text of ["top 5", "show owned@acme.com", "won owned@acme.com", "help"]) {
      const res = await foreign.command(OUTSIDER, text);
      expect(res.status).toBe(200);
      expect(onlySays(res.json)).toEqual(new Set([FOREIGN_TEAM_REFUSAL]));
      expect(h.standin.responses(res.responseId ?? "")).toEqual([]);
    }
    const { message, leadId } = await hotLeadAlert(h.app.services, h.standin, {
      email: "hot@acme.com",
    });
    const value = (message.blocks as Block[])
      .find((b) => b.block_id === ALERT_ACTIONS_BLOCK)
      ?.elements?.find((e) => e.action_id === ALERT_WON)?.value;
    const click = await foreign.blockAction(OUTSIDER, {
      actionId: ALERT_WON,
      blockId: ALERT_ACTIONS_BLOCK,
      value: value as string,
      message: { ts: message.ts, blocks: message.blocks ?? [] },
    });
    expect(click.status).toBe(200);
    expect(onlySays((await answerTo(h.standin, click.responseId)).payload)).toEqual(
      new Set([FOREIGN_TEAM_REFUSAL]),
    );
    const rows = await tdb.database.db.select().from(outcomes).where(eq(outcomes.leadId, leadId));
    expect(rows).toEqual([]);
  });

  it("when a guest uses a command or opens App Home, then a sentence comes back and no data", async () => {
    const res = await h.driver.command(GUEST, "top 5");
    expect(onlySays(res.json)).toEqual(new Set([GUEST_REFUSAL]));
    await h.driver.event({ type: "app_home_opened", user: GUEST, tab: "home", channel: "D0G" });
    const publish = await waitForCall(
      h.standin,
      (c) => c.method === "views.publish" && c.params.user_id === GUEST,
    );
    expect(onlySays(publish.params.view)).toEqual(new Set([GUEST_REFUSAL]));
    // A member of the workspace still gets data: the control for the refusals above.
    expect(await ask(TEST_REP, "show owned@acme.com")).toContain("Owned");
  });

  it("when a guest is asked about twice, then users.info is called once (cached)", async () => {
    const guest = "U0GUEST0C2";
    h.standin.addUser({ id: guest, name: "guest2", is_ultra_restricted: true });
    expect(onlySays((await h.driver.command(guest, "top 5")).json)).toEqual(
      new Set([GUEST_REFUSAL]),
    );
    expect(onlySays((await h.driver.command(guest, "help")).json)).toEqual(
      new Set([GUEST_REFUSAL]),
    );
    const asked = h.standin.callsTo("users.info").filter((c) => c.params.user === guest);
    expect(asked).toHaveLength(1);
  });
});
