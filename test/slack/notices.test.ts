import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART_SIZE } from "../../src/charts/index.js";
import { digestJob, reminderJob } from "../../src/jobs/notices.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices } from "../../src/services/index.js";
import {
  ALERT_LOST,
  ALERT_NOT_A_FIT,
  ALERT_WON,
  DIGEST_HEADER_BLOCK,
  DIGEST_METADATA_EVENT,
  REMINDER_HEADER_BLOCK,
  REMINDER_METADATA_EVENT,
} from "../../src/slack/ids.js";
import { type TestDatabase, testDatabases, withDatabase } from "../support/db.js";
import {
  eventually,
  hotLeadAlert,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_REP,
  textOf,
} from "../support/slack.js";

const DAY = 86_400_000;

describe.each(testDatabases())(
  "digest and reminders over the Slack stand-in on $name",
  (config) => {
    let tdb: TestDatabase;
    let h: SlackHarness;
    // Alerts are stamped by the database clock; the app's clock is fixed eight days later, at noon
    // UTC (7.5 to 8.5 days on). At noon every digest below falls on the day its clock says, in
    // Berlin as in UTC: late in the UTC evening, Berlin's date is already the next day's.
    const now = Math.floor(Date.now() / DAY) * DAY + 8 * DAY + DAY / 2;

    beforeAll(async () => {
      tdb = await withDatabase(config);
      h = await startSlackHarness({ database: tdb.database, clock: () => now });
    });
    afterAll(async () => {
      await h?.stop();
      await tdb?.cleanup();
    });

    const postsOf = (eventType: string) =>
      h.standin
        .callsTo("chat.postMessage")
        .filter(
          (c) =>
            c.response !== undefined &&
            (c.params.metadata as { event_type?: string } | undefined)?.event_type === eventType,
        );

    it("when the reminder job runs, then each owner gets one DM listing their old alerts without an outcome, with the outcome buttons", async () => {
      const raisedFrom = Date.now();
      const { leadId } = await hotLeadAlert(h.app.services, h.standin, {
        email: "old@acme.example",
        lastName: "Waiting",
        owner: TEST_REP,
      });
      const raisedBy = Date.now();
      const decided = await hotLeadAlert(h.app.services, h.standin, {
        email: "done@acme.example",
        lastName: "Decided",
        owner: TEST_REP,
      });
      await h.app.services.leads.recordOutcome({
        lead: decided.leadId,
        outcome: "won",
        by: TEST_REP,
        source: "api",
      });
      const job = reminderJob(h.app.services, { schedule: "off", tz: "UTC", days: 7 });
      expect(await job.run()).toBe("reminders queued: 1");
      const [post] = await eventually(() => {
        const p = postsOf(REMINDER_METADATA_EVENT);
        return p.length > 0 ? p : undefined;
      });
      const blocks = post?.params.blocks as {
        block_id?: string;
        elements?: { action_id: string; value: string }[];
      }[];
      expect(blocks[0]?.block_id).toBe(REMINDER_HEADER_BLOCK);
      const text = textOf(blocks);
      expect(text).toContain("Hot Waiting");
      expect(text).not.toContain("Hot Decided");
      // Whole days between the alert (database clock) and the app's clock: 7 or 8, by the hour.
      const days = new Set([raisedFrom, raisedBy].map((t) => Math.floor((now - t) / DAY)));
      expect(text).toMatch(new RegExp(`alerted (${[...days].join("|")}) days ago`));
      const buttons = blocks.flatMap((b) => b.elements ?? []);
      expect(buttons.map((b) => b.action_id)).toEqual([ALERT_WON, ALERT_LOST, ALERT_NOT_A_FIT]);
      expect(JSON.parse(buttons[0]?.value ?? "{}")).toMatchObject({ leadId });
      const dm = h.standin.callsTo("conversations.open").at(-1);
      expect(dm?.params.users).toBe(TEST_REP);

      // A second run on the same day queues nothing new.
      expect(await job.run()).toBe("reminders queued: 0");
    }, 60_000);

    it("when the digest job runs, then the alert channel and each manager get the week's digest once", async () => {
      // The digest runs a day after the outcome (stamped by the app's clock), in its week.
      const services = createServices({
        database: tdb.database,
        logger: silentLogger,
        clock: () => now + DAY,
        admins: [TEST_ADMIN],
      });
      const job = digestJob(services, {
        schedule: "off",
        tz: "Europe/Berlin",
        channel: TEST_ALERT_CHANNEL,
      });
      const queued = await job.run();
      const n = Number((queued ?? "").replace(/\D+/g, ""));
      expect(n).toBeGreaterThanOrEqual(2);
      const posts = await eventually(() => {
        const p = postsOf(DIGEST_METADATA_EVENT);
        return p.length >= n ? p : undefined;
      });
      const toChannel = posts.find((p) => p.params.channel === TEST_ALERT_CHANNEL);
      const blocks = toChannel?.params.blocks as { block_id?: string }[];
      expect(blocks[0]?.block_id).toBe(DIGEST_HEADER_BLOCK);
      const text = textOf(blocks);
      expect(text).toContain("*Outcomes this week*\n1 won · 0 lost · 0 not a fit");
      expect(text).toContain("*Pending model changes*: none.");
      // The chart went up as a file in each digest's channel, just before the digest itself.
      expect(text).toContain(
        "Conversion by score band* (score when the outcome was recorded): in the chart just above.",
      );
      expect(text).not.toContain("```");
      const charts = h.standin.files().filter((f) => f.name.startsWith("leadbot-digest-"));
      expect(charts).toHaveLength(n);
      for (const post of posts) {
        const channel = String(post.params.channel);
        const chart = charts.find((f) => f.channels.includes(channel));
        expect(chart?.completed).toBe(true);
        const bytes = chart?.bytes as Buffer;
        expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
        // A drawn chart, not an empty or runaway image.
        expect(bytes.length).toBeGreaterThan(5_000);
        expect(bytes.length).toBeLessThan(500_000);
        const png = PNG.sync.read(bytes);
        expect({ width: png.width, height: png.height }).toEqual(CHART_SIZE.default);
        const messages = h.standin.messages(channel);
        const fileAt = messages.findIndex((m) => m.files?.some((f) => f.id === chart?.id));
        const digestAt = messages.findIndex(
          (m) => m.metadata?.event_type === DIGEST_METADATA_EVENT,
        );
        expect(fileAt).toBeGreaterThanOrEqual(0);
        expect(fileAt).toBeLessThan(digestAt);
      }
      expect(await job.run()).toBe("digests queued: 0");
    }, 60_000);

    it("when the chart upload is rate limited, then the digest waits and goes out with its chart, once", async () => {
      const services = createServices({
        database: tdb.database,
        logger: silentLogger,
        clock: () => now + 3 * DAY,
        admins: [TEST_ADMIN],
      });
      const job = digestJob(services, { schedule: "off", tz: "UTC", channel: TEST_ALERT_CHANNEL });
      const before = postsOf(DIGEST_METADATA_EVENT).length;
      h.standin.failNext("files.getUploadURLExternal", { status: 429, retryAfter: 1 });
      const n = Number(((await job.run()) ?? "").replace(/\D+/g, ""));
      expect(n).toBeGreaterThanOrEqual(2);
      const posts = await eventually(() => {
        const p = postsOf(DIGEST_METADATA_EVENT).slice(before);
        return p.length >= n ? p : undefined;
      }, 30_000);
      expect(posts).toHaveLength(n);
      for (const post of posts) {
        expect(textOf(post.params.blocks as unknown[])).toContain("in the chart just above.");
      }
      const date = new Date(now + 3 * DAY).toISOString().slice(0, 10);
      const charts = h.standin
        .files()
        .filter((f) => f.name === `leadbot-digest-${date}-conversion.png` && f.completed);
      expect(charts).toHaveLength(n);
    }, 60_000);

    it("when Slack refuses the chart upload, then the digest still arrives once, with its bands as text", async () => {
      // The next day: a new digest date, so the job queues again.
      const services = createServices({
        database: tdb.database,
        logger: silentLogger,
        clock: () => now + 2 * DAY,
        admins: [TEST_ADMIN],
      });
      const job = digestJob(services, { schedule: "off", tz: "UTC", channel: TEST_ALERT_CHANNEL });
      const before = postsOf(DIGEST_METADATA_EVENT).length;
      const filesBefore = h.standin.files().length;
      const asked = h.standin.callsTo("files.getUploadURLExternal").length;
      h.standin.failFor("files.getUploadURLExternal", 60_000, { error: "not_allowed_token_type" });
      try {
        const n = Number(((await job.run()) ?? "").replace(/\D+/g, ""));
        expect(n).toBeGreaterThanOrEqual(2);
        const posts = await eventually(() => {
          const p = postsOf(DIGEST_METADATA_EVENT).slice(before);
          return p.length >= n ? p : undefined;
        });
        expect(posts).toHaveLength(n);
        for (const post of posts) {
          const text = textOf(post.params.blocks as unknown[]);
          expect(text).toContain(
            "*Conversion by score band* (score when the outcome was recorded)\n```",
          );
          expect(text).toMatch(/\d+% \(\d+\/\d+\)/);
        }
        // One refused try per digest: a refusal is not retried.
        expect(h.standin.callsTo("files.getUploadURLExternal").length - asked).toBe(n);
        expect(h.standin.files().length).toBe(filesBefore);
      } finally {
        h.standin.recover();
      }
    }, 60_000);
  },
);
