import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportActiveModel, proposeModelFile, versionLines } from "../../src/cli/model.js";
import type { ScoringModel } from "../../src/core/model.js";
import { modelToYaml } from "../../src/core/model-file.js";
import { ensureModel } from "../../src/services/models.js";
import { grantRole } from "../../src/services/team.js";
import { buildHome } from "../../src/slack/blocks/home.js";
import {
  PROPOSAL_ACTIONS_BLOCK,
  PROPOSAL_COMMENT_ACTION,
  PROPOSAL_COMMENT_BLOCK,
  PROPOSAL_REVIEW,
  PROPOSAL_REVIEW_MODAL,
} from "../../src/slack/ids.js";
import type { StoredMessage } from "../../src/slack/local/standin/index.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_MANAGER,
  TEST_REP,
  textOf,
} from "../support/slack.js";

const NOW = Date.now();
const LEAD = "ada@integrators.example";
const NEW_RULE = {
  id: "integrations_page",
  label: "Visited the integrations page",
  event: "page_view",
  where: [{ field: "url", op: "containsAny", values: ["/integrations"] }],
  points: 7,
  maxCount: 3,
};

describe.each(testDatabases())(
  "a model change from a file, reviewed in Slack, on $name",
  (config) => {
    let tdb: TestDatabase;
    let h: SlackHarness;
    let dir: string;

    beforeAll(async () => {
      tdb = await withDatabase(config);
      h = await startSlackHarness({ database: tdb.database, clock: () => NOW });
      dir = mkdtempSync(join(tmpdir(), "leadbot-lifecycle-"));
    });

    afterAll(async () => {
      await h?.stop();
      await tdb?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    beforeEach(async () => {
      const db = tdb.database.db;
      await truncateAll(db);
      await ensureModel(db);
      await grantRole(db, {
        by: TEST_ADMIN,
        userId: TEST_MANAGER,
        role: "manager",
        admins: [TEST_ADMIN],
      });
      h.standin.reset();
      const s = h.app.services;
      expect(
        (
          await s.upsertLeads([
            {
              email: LEAD,
              firstName: "Ada",
              lastName: "Lovelace",
              title: "Engineer",
              company: "Integrators",
            },
            {
              email: "bo@elsewhere.example",
              firstName: "Bo",
              title: "Analyst",
              company: "Elsewhere",
            },
          ])
        ).errors,
      ).toEqual([]);
      expect(
        (
          await s.recordEvents([
            {
              id: "ada-integrations",
              email: LEAD,
              type: "page_view",
              occurredAt: new Date(NOW - 3_600_000).toISOString(),
              properties: { url: "https://leadbot.example/integrations/salesforce" },
            },
          ])
        ).errors,
      ).toEqual([]);
      await s.scoring.flush();
    });

    /** The active model exported, with `edit` applied, written back as a YAML file. */
    async function editedExport(name: string, edit: (m: ScoringModel) => void): Promise<string> {
      const exported = await exportActiveModel(h.app.services, join(dir, name));
      const model = parse(readFileSync(exported, "utf8")) as ScoringModel;
      edit(model);
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, modelToYaml(model));
      return file;
    }

    function proposalDm(user: string, id: number): StoredMessage | undefined {
      return h.standin
        .messages(h.standin.dmChannel(user))
        .find((m) => m.metadata?.event_payload.proposal_id === id);
    }

    async function pressReview(user: string, message: StoredMessage, id: number) {
      return h.driver.blockAction(user, {
        actionId: PROPOSAL_REVIEW,
        blockId: PROPOSAL_ACTIONS_BLOCK,
        value: String(id),
        message: { ts: message.ts, text: message.text, blocks: message.blocks ?? [] },
        channel: { id: message.channel },
      });
    }

    it("when a rule is added in a YAML file and proposed, then a manager reviews and approves it in a modal and /lead why shows its points", async () => {
      const s = h.app.services;
      const file = await editedExport("add-rule", (m) => {
        m.engagement.rules.push(NEW_RULE as ScoringModel["engagement"]["rules"][number]);
      });
      // The CLI's own code path: `leadbot model propose <file> --by … --reason …`.
      const printed = await proposeModelFile(s, {
        file,
        by: TEST_REP,
        reason: "Integration browsers buy",
      });
      expect(printed.join("\n")).toContain("New engagement rule Visited the integrations page");
      const [pending] = await s.proposals.pending();
      if (!pending) throw new Error("no proposal stored");
      expect(pending.kind).toBe("model");

      // The running app posts it to the managers exactly like a proposal from Slack.
      const dm = await eventually(() => proposalDm(TEST_MANAGER, pending.id));
      const dmText = textOf(dm.blocks);
      expect(dmText).toContain(
        'New engagement rule Visited the integrations page (integrations_page): +7 points, on page_view, where url contains "/integrations", at most 3',
      );
      expect(dmText).toContain("Integration browsers buy");
      expect(textOf(dm.blocks)).toContain("Review");
      await eventually(() => proposalDm(TEST_REP, pending.id));
      await eventually(() =>
        h.standin
          .messages(TEST_ALERT_CHANNEL)
          .find((m) => m.metadata?.event_payload.proposal_id === pending.id),
      );

      // A rep pressing Review is told that managers decide; nothing opens.
      const rep = await pressReview(TEST_REP, dm, pending.id);
      expect(textOf((await answerTo(h.standin, rep.responseId)).payload)).toContain(
        "Only managers can approve",
      );

      const from = h.standin.calls.length;
      await pressReview(TEST_MANAGER, dm, pending.id);
      const opened = await eventually(() =>
        h.standin.calls
          .slice(from)
          .find(
            (c) =>
              c.method === "views.open" &&
              c.response &&
              (c.params.view as { callback_id?: string }).callback_id === PROPOSAL_REVIEW_MODAL,
          ),
      );
      const view = opened.params.view as {
        callback_id: string;
        private_metadata: string;
        blocks: unknown[];
        submit: { text: string };
      };
      expect(view.submit.text).toBe("Approve");
      const modalText = textOf(view.blocks);
      expect(modalText).toContain("Visited the integrations page (integrations_page)");
      expect(modalText).toContain("*Impact*");
      expect(modalText).toContain("*Backtest*");

      const submitted = await h.driver.viewSubmission(
        TEST_MANAGER,
        { callback_id: view.callback_id, private_metadata: view.private_metadata },
        {
          [PROPOSAL_COMMENT_BLOCK]: {
            [PROPOSAL_COMMENT_ACTION]: { type: "plain_text_input", value: "Good call, ship it" },
          },
        },
      );
      expect(submitted.status).toBe(200);
      expect(submitted.body).toBe("");

      const active = await eventually(async () => {
        const a = await s.models.active();
        return a.version === 2 ? a : undefined;
      });
      expect(active.model.engagement.rules.find((r) => r.id === "integrations_page")).toMatchObject(
        {
          points: 7,
        },
      );
      const announcement = await eventually(() =>
        h.standin
          .messages(TEST_ALERT_CHANNEL)
          .find((m) => textOf(m.blocks).includes("Scoring model v2 is active")),
      );
      expect(textOf(announcement.blocks)).toContain("Good call, ship it");
      // The manager's DM is rewritten in place: approved, with the comment, no buttons.
      await eventually(() => {
        const m = proposalDm(TEST_MANAGER, pending.id);
        return m?.edited && textOf(m.blocks).includes(`*Approved* by <@${TEST_MANAGER}>`)
          ? m
          : undefined;
      });
      const audit = await s.team.history(20, ["proposal.approved"]);
      expect(audit[0]?.details).toMatchObject({ version: 2, note: "Good call, ship it" });

      const why = await h.driver.command(TEST_REP, `why ${LEAD}`);
      expect(textOf((await answerTo(h.standin, why.responseId)).payload)).toContain(
        "Visited the integrations page",
      );

      // History: who proposed, who approved, when, and the diff.
      const history = await s.models.history();
      expect(history[0]).toMatchObject({
        version: 2,
        proposedBy: TEST_REP,
        approvedBy: TEST_MANAGER,
        reason: "Integration browsers buy",
        comment: "Good call, ship it",
      });
      const lines = versionLines(history).join("\n");
      expect(lines).toContain(`proposed by ${TEST_REP}, approved by ${TEST_MANAGER}`);
      expect(lines).toContain("New engagement rule Visited the integrations page");
      const slackHistory = await h.driver.command(TEST_REP, "history");
      const historyText = textOf((await answerTo(h.standin, slackHistory.responseId)).payload);
      expect(historyText).toContain(`proposed by <@${TEST_REP}>, approved by <@${TEST_MANAGER}>`);
      expect(historyText).toContain("New engagement rule Visited the integrations page");
    });

    it("when another change was approved after the review opened, then the review's submission is refused in the modal", async () => {
      const s = h.app.services;
      const first = await s.proposals.create({
        change: { kind: "thresholds", thresholds: { mql: 45 } },
        by: TEST_REP,
      });
      const second = await s.proposals.create({
        change: { kind: "thresholds", thresholds: { sql: 85 } },
        by: TEST_REP,
      });
      const dm = await eventually(() => proposalDm(TEST_MANAGER, second.proposal.id));
      const from = h.standin.calls.length;
      await pressReview(TEST_MANAGER, dm, second.proposal.id);
      const opened = await eventually(() =>
        h.standin.calls.slice(from).find((c) => c.method === "views.open" && c.response),
      );
      await s.proposals.decide({ id: first.proposal.id, by: TEST_ADMIN, decision: "approve" });
      const view = opened.params.view as { callback_id: string; private_metadata: string };
      const res = await h.driver.viewSubmission(
        TEST_MANAGER,
        { callback_id: view.callback_id, private_metadata: view.private_metadata },
        {},
      );
      expect(res.json).toEqual({
        response_action: "errors",
        errors: { [PROPOSAL_COMMENT_BLOCK]: expect.stringContaining("The model changed since") },
      });
      expect((await s.proposals.get(second.proposal.id)).status).toBe("pending");
    });

    it("when a change moves more than half of all leads, then the message says so in bold above Review", async () => {
      const s = h.app.services;
      // A demo request each: both leads sit between 25 and the MQL threshold of 50.
      const events = [LEAD, "bo@elsewhere.example"].map((email) => ({
        id: `${email}-demo`,
        email,
        type: "demo_request",
        occurredAt: new Date(NOW - 3_600_000).toISOString(),
      }));
      expect((await s.recordEvents(events)).errors).toEqual([]);
      await s.scoring.flush();
      const { proposal } = await s.proposals.create({
        change: { kind: "thresholds", thresholds: { mql: 25 } },
        by: TEST_REP,
      });
      const dm = await eventually(() => proposalDm(TEST_MANAGER, proposal.id));
      const blocks = (dm.blocks ?? []) as { block_id?: string; text?: { text: string } }[];
      const warning = blocks.findIndex((b) => b.block_id === "proposal_warning");
      const actions = blocks.findIndex((b) => b.block_id === PROPOSAL_ACTIONS_BLOCK);
      expect(warning).toBeGreaterThan(-1);
      expect(warning).toBeLessThan(actions);
      expect(blocks[warning]?.text?.text).toMatch(
        /^:warning: \*This change moves more than half of all leads: 2 of 2/,
      );
    });

    it("when a manager opens the App Home, then each proposal waiting for them carries Review", async () => {
      const s = h.app.services;
      const { proposal } = await s.proposals.create({
        change: { kind: "thresholds", thresholds: { mql: 45 } },
        by: TEST_REP,
      });
      const home = buildHome({
        userId: TEST_MANAGER,
        role: "manager",
        myTop: [],
        awaiting: [],
        proposals: (await s.proposals.pending()).map((p) => ({
          id: p.id,
          kind: p.kind,
          proposedBy: p.proposedBy,
          diff: p.diff as string[],
          createdAt: p.createdAt,
        })),
        counts: { lead: 2, mql: 0, sql: 0 },
        modelVersion: 1,
        now: new Date(NOW),
      });
      const review = home.blocks.find(
        (b) =>
          b.type === "section" &&
          (b as { accessory?: { action_id?: string } }).accessory?.action_id === PROPOSAL_REVIEW,
      ) as { accessory: { value: string } } | undefined;
      expect(review?.accessory.value).toBe(String(proposal.id));

      // Pressed from the home tab (no message, no response_url): the modal opens all the same.
      const from = h.standin.calls.length;
      await h.driver.blockAction(TEST_MANAGER, {
        actionId: PROPOSAL_REVIEW,
        value: String(proposal.id),
        view: { id: "VHOME0001", callback_id: "" },
      });
      const opened = await eventually(() =>
        h.standin.calls.slice(from).find((c) => c.method === "views.open" && c.response),
      );
      expect((opened.params.view as { callback_id: string }).callback_id).toBe(
        PROPOSAL_REVIEW_MODAL,
      );
    });

    it("when the active model is exported, changed, and the export proposed and approved again, then the model is identical to the export", async () => {
      const s = h.app.services;
      const first = await s.proposals.create({
        change: { kind: "weights", weights: { demo_request: 35 } },
        by: TEST_REP,
      });
      await s.proposals.decide({ id: first.proposal.id, by: TEST_MANAGER, decision: "approve" });
      const exported = await exportActiveModel(s, join(dir, "round-trip"));
      const snapshot = await s.models.byVersion(2);
      const second = await s.proposals.create({
        change: { kind: "thresholds", thresholds: { mql: 40 } },
        by: TEST_REP,
      });
      await s.proposals.decide({ id: second.proposal.id, by: TEST_MANAGER, decision: "approve" });
      await proposeModelFile(s, { file: exported, by: TEST_REP, reason: "back to v2" });
      const [back] = await s.proposals.pending();
      if (!back) throw new Error("the export was not proposed");
      await s.proposals.decide({ id: back.id, by: TEST_MANAGER, decision: "approve" });
      const active = await s.models.active();
      expect(active.version).toBe(4);
      expect(active.model).toEqual(snapshot);
    });
  },
);
