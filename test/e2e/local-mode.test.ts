import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalTerminal, startLocalTerminal } from "../support/terminal.js";

/** Local mode as a person meets it, in a terminal, on a fresh embedded database. */

const API_TOKEN = "local-mode-test-token-0123456789";
/** First start runs initdb and loads 2,000 demo leads. */
const START_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 30_000;

describe("local mode in a terminal", () => {
  let dir: string;
  let term: LocalTerminal;
  const see = (pattern: RegExp, timeoutMs?: number) => term.see(pattern, timeoutMs);
  const type = (line: string) => term.type(line);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "leadbot-local-"));
    term = startLocalTerminal({
      dataDir: dir,
      apiToken: API_TOKEN,
      stepTimeoutMs: STEP_TIMEOUT_MS,
    });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await term?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "when a person types /lead top 10, presses buttons, fills the Lost modal and proposes a threshold, then they see the app answer",
    async () => {
      const port = Number((await see(/Leadbot is up on port (\d+)/, START_TIMEOUT_MS))[1]);
      await see(/riley> /);

      type("/lead top 10");
      await see(/Top 10 leads\* \(1–10\)/);
      await see(/\[10\] Why this score \| Show lead/);
      await see(/riley> /);

      type("1 Why this score");
      await see(/== Why .+ scores \d+/);
      await see(/with model v1/);

      // A hot lead arrives through the ingest API: its alert shows up in the console.
      const api = (path: string, body: unknown) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      expect(
        (
          await api("/api/v1/leads", {
            leads: [
              {
                email: "pat@hotco.com",
                firstName: "Pat",
                lastName: "Hot",
                title: "VP Sales",
                company: "HotCo",
                industry: "Software",
                employees: 900,
                country: "US",
              },
            ],
          })
        ).status,
      ).toBe(200);
      const at = new Date().toISOString();
      const events = await api("/api/v1/events", {
        events: ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
          id: `pat-${i}`,
          email: "pat@hotco.com",
          type,
          occurredAt: at,
        })),
      });
      expect(events.status).toBe(200);
      await see(/\[#alerts\] == New SQL: Pat Hot ==/);
      await see(/\[1\] Won {2}\[2\] Lost {2}\[3\] Not a fit {2}\[4\] Claim/);

      type("4");
      await see(/\[updated\][\s\S]*Claimed by @riley/);
      await see(/\[1\] Won {2}\[2\] Lost {2}\[3\] Not a fit/);

      type("2");
      await see(/┌ Lead lost/);
      await see(/\{1\} Reason: _ \(one of: no_budget,/);
      type("submit");
      await see(/fill Reason first/);
      type("1 no_budget");
      await see(/Reason = no_budget/);
      type("2 Budget frozen until Q3");
      type("submit");
      await see(/Submitted\./);
      await see(/\[updated\][\s\S]*Marked \*Lost\* by @riley[\s\S]*Reason: no budget/);

      // Tuning: each edit of a field refreshes the impact preview, as Enter does in Slack.
      type("/lead thresholds");
      await see(/┌ Tune thresholds/);
      await see(/Nothing changed yet\. The current model scores/);
      type("1 40");
      await see(/MQL threshold: 50 → 40/);
      await see(/would change stage: \d+ up, 0 down/);
      type("submit");
      await see(/proposes a change to the thresholds/);
      await see(/Waiting for a manager\. Sent for approval to/);

      // A manager reaches Review from the App Home and approves in the review modal.
      type("as morgan");
      await see(/You are now morgan/);
      type("home");
      const review = (await see(/\[(\d+)\] Review/))[1];
      type(String(review));
      await see(/┌ Review change #1/);
      await see(/MQL threshold: 50 → 40/);
      type("submit");
      await see(/Scoring model v2 is active/);

      type("quit");
      expect(await term.exited()).toBe(0);
    },
    START_TIMEOUT_MS + 60_000,
  );
});
