import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ScoringModel } from "../../src/core/model.js";
import { segmentedCopy } from "../../src/core/segments.js";
import { ensureModel } from "../../src/services/models.js";
import { LEAD_MENU } from "../../src/slack/blocks/ids.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
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
