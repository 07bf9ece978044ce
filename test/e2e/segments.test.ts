import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ScoringModel } from "../../src/core/model.js";
import { segmentedCopy } from "../../src/core/segments.js";
import { ensureModel } from "../../src/services/models.js";
import { LEAD_MENU } from "../../src/slack/blocks/ids.js";
import {
  PROPOSAL_ACTIONS_BLOCK,
  PROPOSAL_REVIEW,
  PROPOSAL_REVIEW_MODAL,
  TUNING_MQL_ACTION,
  TUNING_MQL_BLOCK,
  TUNING_THRESHOLDS_MODAL,
} from "../../src/slack/ids.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_MANAGER,
  TEST_REP,
  textOf,
} from "../support/slack.js";

interface Block {
  type: string;
  block_id?: string;
  accessory?: { action_id?: string };
  text?: { text?: string };
}

interface LeadJson {
  email: string;
  score: number;
  scoredAt: string;
  model: { key: string; version: number } | null;
  breakdown: { ruleId: string; points: number }[];
}

const DAY = 86_400_000;
const EMEA = ["DE", "FR", "GB"];
/** The rule only the EMEA model has: seeing it in a breakdown says which model scored the lead. */
const EMEA_RULE = "emea_market";

const LEADS = [
  { email: "anna@berlin.de", country: "DE", title: "VP of Sales" },
  { email: "marc@paris.fr", country: "FR", title: "Director of Marketing" },
  { email: "oliver@london.co.uk", country: "GB", title: "Head of Growth" },
  { email: "sam@austin.com", country: "US", title: "VP of Sales" },
  { email: "dana@boston.com", country: "US", title: "Director of Marketing" },
  { email: "lee@denver.com", country: "US", title: "Head of Growth" },
];

describe.each(testDatabases())("several models over HTTP on $name", (config) => {
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
    const s = h.app.services;
    const r = await s.upsertLeads(
      LEADS.map((l) => ({ ...l, company: "Acme", industry: "Software", employees: 800 })),
    );
    expect(r.errors).toEqual([]);
    const now = s.clock();
    const e = await s.recordEvents(
      LEADS.map((l, i) => ({
        id: `seed-${i}`,
        email: l.email,
        type: "demo_request",
        occurredAt: new Date(now - DAY).toISOString(),
      })),
    );
    await s.scoring.flush();
    expect(e.errors).toEqual([]);
    await s.team.grantRole({ by: TEST_ADMIN, userId: TEST_MANAGER, role: "manager" });
  });

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${h.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${h.apiToken}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  }

  const lead = (email: string) => api<LeadJson>(`/api/v1/leads/${encodeURIComponent(email)}`);

  async function ask(text: string, user = TEST_REP) {
    const res = await h.driver.command(user, text);
    expect(res.status).toBe(200);
    return (await answerTo(h.standin, res.responseId)).payload;
  }

  function emeaModel(base: ScoringModel, countries = EMEA): ScoringModel {
    const copy = segmentedCopy(base, {
      key: "emea",
      segment: { when: [{ field: "country", op: "oneOf", values: countries }], priority: 10 },
      name: "EMEA",
    });
    return {
      ...copy,
      fit: {
        ...copy.fit,
        rules: [
          ...copy.fit.rules,
          {
            id: EMEA_RULE,
            label: "EMEA market",
            points: 7,
            when: [{ field: "country", op: "present" }],
          },
        ],
      },
    };
  }

  /** Proposes a whole model as a rep and approves it as the admin: the one path of any change. */
  async function approveModel(model: ScoringModel) {
    const s = h.app.services;
    const { proposal } = await s.proposals.create({
      change: { kind: "model", model },
      by: TEST_REP,
    });
    return s.proposals.decide({ id: proposal.id, by: TEST_ADMIN, decision: "approve" });
  }

  async function createEmea() {
    const base = (await h.app.services.models.active()).model;
    const decided = await approveModel(emeaModel(base));
    expect(decided.status).toBe("approved");
    return decided;
  }

  it("when an EMEA model is approved, then EMEA leads are scored by it and the rest by the default model", async () => {
    const before = await lead("anna@berlin.de");
    expect(before.model?.key).toBe("default");

    const decided = await createEmea();
    for (const l of LEADS) {
      const got = await lead(l.email);
      const inEmea = EMEA.includes(l.country);
      expect(got.model).toEqual(
        inEmea
          ? { key: "emea", version: decided.version }
          : { key: "default", version: before.model?.version },
      );
      expect(got.breakdown.some((b) => b.ruleId === EMEA_RULE)).toBe(inEmea);
    }
    expect((await lead("anna@berlin.de")).score).toBeCloseTo(before.score + 7, 6);

    // A lead that arrives afterwards is scored by its segment's model at once.
    await h.app.services.upsertLeads([{ email: "ines@madrid.es", country: "GB" }]);
    expect((await lead("ines@madrid.es")).model?.key).toBe("emea");
  });

  it("when /lead top is asked after an EMEA model exists, then both models' leads appear, each row naming its model", async () => {
    await createEmea();
    const payload = await ask("top 10");
    const rows = (payload.blocks as Block[]).filter((b) => b.accessory?.action_id === LEAD_MENU);
    expect(rows).toHaveLength(LEADS.length);
    const rowText = rows.map((r) => r.text?.text ?? "");
    for (const l of LEADS) {
      const row = rowText.find((t) => t.includes(l.email));
      expect(row).toContain(EMEA.includes(l.country) ? "model emea" : "model default");
    }
  });

  it("when /lead top 10 model:emea or GET ?model=emea is asked, then only the EMEA model's leads come back", async () => {
    await createEmea();
    const payload = await ask("top 10 model:emea");
    const rows = (payload.blocks as Block[]).filter((b) => b.accessory?.action_id === LEAD_MENU);
    expect(rows).toHaveLength(EMEA.length);
    expect(textOf(payload)).toContain("scored by model emea");
    for (const r of rows) expect(r.text?.text).toContain("model emea");

    const { leads } = await api<{ leads: { email: string; model: string }[] }>(
      "/api/v1/leads?top=10&model=emea",
    );
    expect(leads.map((l) => l.email).sort()).toEqual(
      LEADS.filter((l) => EMEA.includes(l.country))
        .map((l) => l.email)
        .sort(),
    );
    expect(new Set(leads.map((l) => l.model))).toEqual(new Set(["emea"]));

    const why = await ask("why anna@berlin.de");
    expect(textOf(why)).toMatch(/with model emea v\d+/);
    expect(textOf(why)).toContain("EMEA market");
  });

  it("when a proposal on the EMEA model is approved, then default-model leads keep their scores, versions and staleness", async () => {
    const s = h.app.services;
    await createEmea();
    // A default-model proposal made before the EMEA change must still be approvable after it.
    const onDefault = await s.proposals.create({
      change: { kind: "thresholds", thresholds: { mql: 41 } },
      by: TEST_REP,
    });
    const us = await Promise.all(LEADS.filter((l) => l.country === "US").map((l) => lead(l.email)));
    const de = await lead("anna@berlin.de");

    const { proposal } = await s.proposals.create({
      change: { kind: "weights", weights: { [EMEA_RULE]: 15 }, modelKey: "emea" },
      by: TEST_REP,
    });
    expect(proposal.modelKey).toBe("emea");
    const decided = await s.proposals.decide({
      id: proposal.id,
      by: TEST_ADMIN,
      decision: "approve",
    });
    expect(decided.rescore?.changed).toBe(EMEA.length);

    const after = await lead("anna@berlin.de");
    expect(after.model).toEqual({ key: "emea", version: decided.version });
    expect(after.breakdown.find((b) => b.ruleId === EMEA_RULE)?.points).toBe(15);
    expect(de.breakdown.find((b) => b.ruleId === EMEA_RULE)?.points).toBe(7);
    for (const before of us) expect(await lead(before.email)).toEqual(before);

    const defaultDecision = await s.proposals.decide({
      id: onDefault.proposal.id,
      by: TEST_MANAGER,
      decision: "approve",
    });
    expect(defaultDecision.status).toBe("approved");
    expect((await s.models.active("emea")).version).toBe(decided.version);
  });

  it("when a manager tunes the EMEA model from Slack, then the proposal, its review and its approval are the EMEA model's", async () => {
    const s = h.app.services;
    await createEmea();
    const emea = await s.models.active("emea");
    const defaultBefore = await s.models.active();
    const mql = emea.model.thresholds.mql + 5;

    // `/lead thresholds model:emea` opens the EMEA model's values, named as such.
    const from = h.standin.calls.length;
    const cmd = await h.driver.command(TEST_REP, "thresholds model:emea");
    expect(cmd.status).toBe(200);
    const opened = await eventually(() =>
      h.standin.calls
        .slice(from)
        .find((c) => c.method === "views.open" && c.response !== undefined),
    );
    const view = opened.params.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(TUNING_THRESHOLDS_MODAL);
    expect(textOf(opened.params.view)).toContain("EMEA");
    const submitted = await h.driver.viewSubmission(
      TEST_REP,
      { id: "V0EMEA", callback_id: view.callback_id, private_metadata: view.private_metadata },
      { [TUNING_MQL_BLOCK]: { [TUNING_MQL_ACTION]: { type: "number_input", value: String(mql) } } },
    );
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe("");
    const proposal = await eventually(async () => (await s.proposals.pending())[0]);
    expect(proposal.modelKey).toBe("emea");
    expect(proposal.baseVersion).toBe(emea.version);

    // The manager's Review opens (the base is EMEA's active version, whatever the default's is).
    const dm = await eventually(() =>
      h.standin
        .messages(h.standin.dmChannel(TEST_MANAGER))
        .find((m) => m.metadata?.event_payload.proposal_id === proposal.id),
    );
    const before = h.standin.calls.length;
    await h.driver.blockAction(TEST_MANAGER, {
      actionId: PROPOSAL_REVIEW,
      blockId: PROPOSAL_ACTIONS_BLOCK,
      value: String(proposal.id),
      message: { ts: dm.ts, text: dm.text, blocks: dm.blocks ?? [] },
      channel: { id: dm.channel },
    });
    const review = await eventually(() =>
      h.standin.calls
        .slice(before)
        .find(
          (c) =>
            c.method === "views.open" &&
            c.response !== undefined &&
            (c.params.view as { callback_id?: string }).callback_id === PROPOSAL_REVIEW_MODAL,
        ),
    );
    const reviewView = review.params.view as { callback_id: string; private_metadata: string };
    const approved = await h.driver.viewSubmission(
      TEST_MANAGER,
      { callback_id: reviewView.callback_id, private_metadata: reviewView.private_metadata },
      {},
    );
    expect(approved.status).toBe(200);
    expect(approved.body).toBe("");

    const after = await eventually(async () => {
      const a = await s.models.active("emea");
      return a.version !== emea.version ? a : undefined;
    });
    expect(after.model.thresholds.mql).toBe(mql);
    const defaultAfter = await s.models.active();
    expect(defaultAfter.version).toBe(defaultBefore.version);
    expect(defaultAfter.model.thresholds).toEqual(defaultBefore.model.thresholds);
  });

  it("when /lead weights names a model that does not exist, then the asker is told so", async () => {
    const res = await h.driver.command(TEST_REP, "weights model:apac");
    expect(res.status).toBe(200);
    expect(textOf((await answerTo(h.standin, res.responseId)).payload)).toContain(
      'No model has the key "apac"',
    );
    expect(h.standin.callsTo("views.open")).toEqual([]);
  });

  it("when the EMEA segment changes, then leads move between models only once it is approved", async () => {
    const s = h.app.services;
    await createEmea();
    const emea = (await s.models.active("emea")).model;
    const { proposal, preview } = await s.proposals.create({
      change: {
        kind: "model",
        model: {
          ...emea,
          segment: {
            when: [{ field: "country", op: "oneOf", values: ["DE", "FR"] }],
            priority: 10,
          },
        },
      },
      by: TEST_REP,
    });
    expect(preview.changes.join("\n")).toContain("Segment: country one of DE, FR, GB");
    expect(preview.impact.leads).toBe(EMEA.length);
    // Proposed, not approved: GB is still the EMEA model's.
    expect((await lead("oliver@london.co.uk")).model?.key).toBe("emea");

    const decided = await s.proposals.decide({
      id: proposal.id,
      by: TEST_ADMIN,
      decision: "approve",
    });
    const gb = await lead("oliver@london.co.uk");
    expect(gb.model?.key).toBe("default");
    expect(gb.breakdown.some((b) => b.ruleId === EMEA_RULE)).toBe(false);
    expect((await lead("anna@berlin.de")).model?.key).toBe("emea");
    expect(decided.rescore?.changed).toBeGreaterThanOrEqual(1);
  });

  it("when the store has the default model alone, then the top list reads as before, naming no model", async () => {
    const payload = await ask("top 10");
    expect(textOf(payload)).not.toContain("model ");
    expect((await lead("sam@austin.com")).model?.key).toBe("default");
  });
});
