import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import { buildNotice, section } from "./blocks/common.js";
import type { WebClient } from "./client.js";
import type { SlackDeps } from "./deps.js";

/** A guest's status rarely changes; ten minutes keeps users.info off the path of most requests. */
export const GUEST_CACHE_MS = 10 * 60_000;
/** Bounds the cache, so a flood of distinct user ids cannot grow memory without end. */
const GUEST_CACHE_MAX = 5_000;

export const FOREIGN_TEAM_REFUSAL =
  "Leadbot answers only members of the workspace it is installed in; ask someone there to look this up for you.";
export const GUEST_REFUSAL =
  "Leadbot is not available to guest accounts; ask a full member of the workspace for help.";
export const UNCHECKED_REFUSAL =
  "Leadbot could not check your account with Slack just now; try again in a moment.";

interface Who {
  userId?: string | undefined;
  teams: string[];
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** Who sent a request and the workspaces it names: commands, interactions and events alike. */
export function whoOf(body: unknown): Who {
  const b = obj(body) ?? {};
  const user = obj(b.user);
  const event = obj(b.event);
  const teams = [
    str(b.team_id),
    str(b.user_team_id),
    str(obj(b.team)?.id),
    str(user?.team_id),
    str(event?.user_team),
  ].filter((t): t is string => t !== undefined);
  const userId = str(b.user_id) ?? str(user?.id) ?? str(event?.user);
  return { userId, teams };
}

/**
 * Refuses, with a sentence and no data, every command, button, form and event from a user of
 * another workspace (Slack Connect) or a guest. The installed team comes from auth.test at start;
 * guest status from users.info, cached per user.
 */
export function workspaceGuard(
  deps: SlackDeps,
  teamId: string | undefined,
  clock: () => number = Date.now,
): Middleware<AnyMiddlewareArgs> {
  const cache = new Map<string, { refusal: string | undefined; at: number }>();

  async function refusalFor(client: WebClient, who: Who): Promise<string | undefined> {
    if (teamId && who.teams.some((t) => t !== teamId)) return FOREIGN_TEAM_REFUSAL;
    if (!who.userId) return undefined;
    const hit = cache.get(who.userId);
    if (hit && clock() - hit.at < GUEST_CACHE_MS) return hit.refusal;
    let refusal: string | undefined;
    try {
      const res = await client.users.info({ user: who.userId });
      const u = res.user;
      if (teamId && u?.team_id && u.team_id !== teamId) refusal = FOREIGN_TEAM_REFUSAL;
      else if (u?.is_restricted || u?.is_ultra_restricted) refusal = GUEST_REFUSAL;
    } catch (err) {
      deps.logger.warn({ err, user: who.userId }, "users.info failed; request refused");
      // Not cached: the next request asks again.
      return UNCHECKED_REFUSAL;
    }
    if (cache.size >= GUEST_CACHE_MAX) cache.clear();
    cache.set(who.userId, { refusal, at: clock() });
    return refusal;
  }

  return async (args) => {
    const who = whoOf(args.body);
    const refusal = await refusalFor(args.client, who);
    if (!refusal) {
      await args.next();
      return;
    }
    deps.logger.info({ user: who.userId, teams: who.teams }, "request refused: not a member");
    await refuse(args, refusal);
  };
}

async function refuse(args: AnyMiddlewareArgs & { client: WebClient }, text: string) {
  const a = args as unknown as {
    ack?: (r?: unknown) => Promise<void>;
    respond?: (m: unknown) => Promise<unknown>;
    body: Json;
    payload: Json;
  };
  const type = str(a.body.type);
  if ("command" in args && a.ack) {
    await a.ack(buildNotice(text));
    return;
  }
  if (type === "view_submission" && a.ack) {
    await a.ack({
      response_action: "update",
      view: {
        type: "modal",
        title: { type: "plain_text", text: "Leadbot" },
        blocks: [section(text)],
      },
    });
    return;
  }
  if (a.ack) await a.ack();
  if (a.respond) {
    await a.respond({ ...buildNotice(text), replace_original: false }).catch(() => undefined);
    return;
  }
  // An App Home opened by someone refused: the tab shows the sentence instead of leads.
  const event = obj(a.body.event);
  if (event?.type === "app_home_opened" && str(event.user)) {
    await args.client.views
      .publish({
        user_id: String(event.user),
        view: { type: "home", blocks: [section(text)] },
      })
      .catch(() => undefined);
  }
}
