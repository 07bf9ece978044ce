import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type Leadbot, startLeadbot } from "../../app.js";
import type { Env } from "../../config/env.js";
import { DEMO_REPS } from "../../demo/index.js";
import type { Logger } from "../../lib/logger.js";
import type { ConsoleUser } from "./console.js";
import { createSlackDriver, type SlackDriver } from "./driver.js";
import { SlackStandin } from "./standin/index.js";

/**
 * Local mode: no Slack credentials, so the app runs against the local Web API stand-in with a
 * generated token and signing secret, exactly as it would against Slack. The console (or a test)
 * drives it with signed requests through the app's own /slack/events.
 */

/** The channel alerts go to locally, unless LEADBOT_ALERT_CHANNEL names another. */
export const LOCAL_ALERT_CHANNEL = "C0LOCALALRT";
/** The people of the local workspace: an admin, a manager and two reps who own demo leads. */
export const LOCAL_USERS: readonly ConsoleUser[] = [
  { id: DEMO_REPS[0] ?? "U0DEMOREP1", name: "riley", role: "rep" },
  { id: "U0LOCALMGR", name: "morgan", role: "manager" },
  { id: "U0LOCALADM", name: "alex", role: "admin" },
  { id: DEMO_REPS[1] ?? "U0DEMOREP2", name: "sam", role: "rep" },
];

export interface LocalMode {
  leadbot: Leadbot;
  standin: SlackStandin;
  driver: SlackDriver;
  users: readonly ConsoleUser[];
  alertChannel: string;
  stop(): Promise<void>;
}

export async function startLocalMode(opts: { env: Env; logger: Logger }): Promise<LocalMode> {
  const token = `xoxb-local-${randomBytes(12).toString("hex")}`;
  const signingSecret = randomBytes(32).toString("hex");
  // Uploaded charts are saved where the embedded database lives, so they can be opened.
  const standin = await SlackStandin.start({
    token,
    filesDir: join(opts.env.LEADBOT_DATA_DIR, "files"),
  });
  for (const u of LOCAL_USERS) {
    standin.addUser({
      id: u.id,
      name: u.name,
      real_name: u.name,
      tz: "UTC",
      profile: { display_name: u.name },
    });
  }
  const admin = LOCAL_USERS.find((u) => u.role === "admin")?.id ?? "U0LOCALADM";
  const alertChannel = opts.env.LEADBOT_ALERT_CHANNEL ?? LOCAL_ALERT_CHANNEL;
  const env: Env = {
    ...opts.env,
    SLACK_BOT_TOKEN: token,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_APP_TOKEN: undefined,
    SLACK_API_URL: standin.url,
    LEADBOT_ALERT_CHANNEL: alertChannel,
    LEADBOT_ADMINS: [...new Set([...opts.env.LEADBOT_ADMINS, admin])],
  };
  let leadbot: Leadbot;
  try {
    leadbot = await startLeadbot({
      env,
      logger: opts.logger,
      demo: opts.env.LEADBOT_DEMO ? opts.env.LEADBOT_DEMO === "on" : true,
      // The demo's crossings happened in its simulated past: they are not news.
      postDemoAlerts: false,
    });
  } catch (err) {
    await standin.close();
    throw err;
  }
  const { team } = leadbot.services;
  for (const u of LOCAL_USERS) {
    if (u.role === "manager" && (await team.roleOf(u.id)) === "rep") {
      await team.grantRole({ by: admin, userId: u.id, role: "manager" });
    }
  }
  const driver = createSlackDriver({
    url: `http://127.0.0.1:${leadbot.port}/slack/events`,
    signingSecret,
    standin,
  });
  return {
    leadbot,
    standin,
    driver,
    users: LOCAL_USERS,
    alertChannel,
    async stop() {
      await leadbot.stop();
      await standin.close();
    },
  };
}
