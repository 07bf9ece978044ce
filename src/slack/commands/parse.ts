import { z } from "zod";
import { MODEL_KEY } from "../../core/model.js";
import { MAX_TOP } from "../../services/leads.js";
import { DEFAULT_PERIOD, isPeriod, PERIODS, type Period } from "../../services/stats.js";
import { LOST_REASONS, type LostReason, ROLES, type Role } from "../../services/team.js";

/**
 * `/lead` text → a typed command, as plain data. Pure: no Slack, no database, so every form
 * (and every mistake) is tested as a table of strings.
 */

export const SUBCOMMANDS = [
  "top",
  "show",
  "why",
  "find",
  "won",
  "lost",
  "assign",
  "thresholds",
  "weights",
  "rules",
  "stats",
  "suggest",
  "role",
  "history",
  "routing",
  "away",
  "help",
  "reopen",
] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** `top` with no N shows this many. */
export const DEFAULT_TOP = 10;
/** Typos farther than this from every subcommand get no "did you mean". */
const MAX_SUGGESTION_DISTANCE = 2;

export type OwnerFilter = { kind: "mine" } | { kind: "user"; userId: string };

export type LeadCommand =
  | { kind: "help"; topic?: Subcommand | undefined }
  | {
      kind: "top";
      limit: number;
      stage: "mql" | "sql" | "all";
      owner?: OwnerFilter | undefined;
      /** Only leads scored by this model (`model:emea`). */
      model?: string | undefined;
      /** A saved view's name: its filters, with N and the stage given here on top. */
      view?: string | undefined;
    }
  | { kind: "show"; lead: string }
  | { kind: "why"; lead: string }
  | { kind: "find"; text: string }
  /** `/lead find` without text: the Find-leads form. */
  | { kind: "findForm" }
  | { kind: "routing" }
  /** `until` is a date (YYYY-MM-DD, the day one is back); null ends the absence. */
  | { kind: "away"; until: string | null }
  | { kind: "won"; lead: string }
  | {
      kind: "lost";
      lead: string;
      reason?: LostReason | undefined;
      note?: string | undefined;
    }
  | { kind: "assign"; lead: string; userId: string }
  /** `model` is the key of the model to tune (absent: the default model). */
  | { kind: "thresholds"; model?: string | undefined }
  | { kind: "weights"; model?: string | undefined }
  | { kind: "rules"; settings: boolean; model?: string | undefined }
  | { kind: "stats"; period: Period }
  | { kind: "reopen"; lead: string }
  | { kind: "suggest" }
  | { kind: "role"; userId: string; role: Role }
  | { kind: "history" };

export interface ParseError {
  kind: "error";
  /** What was wrong, as a sentence. */
  message: string;
  /** The subcommand whose usage to show (absent: the whole list). */
  usageOf?: Subcommand | undefined;
  /** The closest known subcommand to a mistyped one. */
  suggestion?: Subcommand | undefined;
}

export type ParseResult = LeadCommand | ParseError;

/** One line per subcommand: the form and an example. Shared by help and usage errors. */
export const USAGE: Record<Subcommand, { form: string; example: string; summary: string }> = {
  top: {
    form: "top [N] [mql|sql|all] [mine|@user] [model:<key>] [view:<name>]",
    example: "/lead top 20 sql mine",
    summary: "the highest-scoring leads, or those of a view saved from /lead find",
  },
  show: { form: "show <email|id>", example: "/lead show jane@acme.com", summary: "one lead" },
  why: {
    form: "why <email|id>",
    example: "/lead why jane@acme.com",
    summary: "every point of a lead's score and the rule behind it",
  },
  find: {
    form: "find [text]",
    example: "/lead find acme",
    summary: "leads by name, email or company; alone, a form with every filter",
  },
  won: { form: "won <email|id>", example: "/lead won jane@acme.com", summary: "mark a lead won" },
  lost: {
    form: `lost <email|id> [reason] [note]`,
    example: "/lead lost jane@acme.com chose_competitor went with Globex",
    summary: `mark a lead lost; reasons: ${LOST_REASONS.join(", ")}`,
  },
  assign: {
    form: "assign <email|id> @user",
    example: "/lead assign jane@acme.com @maria",
    summary: "give a lead an owner",
  },
  thresholds: {
    form: "thresholds [model:<key>]",
    example: "/lead thresholds",
    summary: "see the MQL/SQL thresholds and propose a change",
  },
  weights: {
    form: "weights [model:<key>]",
    example: "/lead weights",
    summary: "see the rule points and propose a change",
  },
  rules: {
    form: "rules [settings] [model:<key>]",
    example: "/lead rules",
    summary: "add, edit or remove a rule, or change caps and bands, and propose it",
  },
  stats: {
    form: `stats [${PERIODS.join("|")}]`,
    example: "/lead stats 90d",
    summary: "how well the score predicts outcomes: AUC, conversion by score band, funnel, charts",
  },
  reopen: {
    form: "reopen <email|id>",
    example: "/lead reopen jane@acme.com",
    summary: "put a won or not-a-fit lead back among those alerted on",
  },
  suggest: {
    form: "suggest",
    example: "/lead suggest",
    summary: "learn a model from won and lost leads and propose it",
  },
  role: {
    form: "role @user manager|rep|admin",
    example: "/lead role @maria manager",
    summary: "set someone's role (admins only)",
  },
  history: {
    form: "history",
    example: "/lead history",
    summary: "recent outcomes, assignments and model changes",
  },
  routing: {
    form: "routing",
    example: "/lead routing",
    summary: "routing rules and each person's share this week (admins edit them)",
  },
  away: {
    form: "away until <YYYY-MM-DD> | away off",
    example: "/lead away until 2026-12-24",
    summary: "skip me when routing leads until that day",
  },
  help: { form: "help [command]", example: "/lead help top", summary: "this list" },
};

/**
 * Edit distance with adjacent transpositions (optimal string alignment): "tpo" is one edit from
 * "top", which is how people mistype.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The known subcommand closest to `word`, when it is close enough to be a typo. */
export function suggest(word: string): Subcommand | undefined {
  const w = word.toLowerCase();
  let best: { name: Subcommand; d: number } | undefined;
  for (const name of SUBCOMMANDS) {
    const d = editDistance(w, name);
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  // A short word is "close" to many things: allow at most a third of its letters to differ.
  const limit = Math.min(MAX_SUGGESTION_DISTANCE, Math.max(1, Math.floor(w.length / 3)));
  if (best.d <= limit || best.name.startsWith(w)) return best.name;
  return undefined;
}

/**
 * Slack escapes what people type (with should_escape): users arrive as `<@U123|name>`, emails as
 * `<mailto:a@b.com|a@b.com>`, links as `<https://…|…>`. This turns them back into plain words.
 */
export function unescapeSlack(text: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, "@$1")
    .replace(/<mailto:([^|>]+)(?:\|[^>]*)?>/g, "$1")
    .replace(/<(https?:[^|>]+)(?:\|[^>]*)?>/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

const userRef = /^@?([UW][A-Z0-9]{2,})$/;

/** A Slack user id from `@U123`, `U123` or `<@U123|name>`; undefined for anything else. */
export function parseUser(token: string): string | undefined {
  return userRef.exec(unescapeSlack(token))?.[1];
}

const topLimit = z.coerce
  .number()
  .int(`N must be a whole number from 1 to ${MAX_TOP}`)
  .min(1, `N must be a whole number from 1 to ${MAX_TOP}`)
  .max(MAX_TOP, `N is at most ${MAX_TOP}`);

function error(message: string, usageOf?: Subcommand, suggestion?: Subcommand): ParseError {
  return { kind: "error", message, usageOf, suggestion };
}

function normaliseReason(word: string): LostReason | undefined {
  const w = word.toLowerCase().replace(/[\s-]+/g, "_");
  return (LOST_REASONS as readonly string[]).includes(w) ? (w as LostReason) : undefined;
}

/**
 * A `model:<key>` argument: the key, null when it names no valid key, undefined when the argument
 * is something else.
 */
function modelArg(arg: string): string | null | undefined {
  const a = arg.toLowerCase();
  if (!a.startsWith("model:")) return undefined;
  const key = a.slice("model:".length);
  return MODEL_KEY.test(key) ? key : null;
}

function parseTop(args: string[]): ParseResult {
  let limit: number | undefined;
  let stage: "mql" | "sql" | "all" | undefined;
  let owner: OwnerFilter | undefined;
  let model: string | undefined;
  let view: string | undefined;
  for (const arg of args) {
    const a = arg.toLowerCase();
    const key = modelArg(arg);
    if (key !== undefined) {
      if (key === null)
        return error(`"${arg}" names no model: use model:<key>, e.g. model:emea.`, "top");
      model = key;
    } else if (/^-?\d+(\.\d+)?$/.test(a)) {
      if (limit !== undefined) return error(`Give N once (got "${arg}" too).`, "top");
      const n = topLimit.safeParse(a);
      if (!n.success) return error(n.error.issues[0]?.message ?? "N is invalid", "top");
      limit = n.data;
    } else if (a === "mql" || a === "sql" || a === "all") {
      if (stage !== undefined) return error(`Give one stage (got "${arg}" too).`, "top");
      stage = a;
    } else if (a === "mine" || a === "me") {
      owner = { kind: "mine" };
    } else if (parseUser(arg)) {
      owner = { kind: "user", userId: parseUser(arg) as string };
    } else if (a.startsWith("view:") && a.length > "view:".length) {
      if (view !== undefined) return error(`Give one view (got "${arg}" too).`, "top");
      view = a.slice("view:".length);
    } else {
      return error(
        `"${arg}" is not a number, a stage (mql, sql, all), "mine", a @user or model:<key>.`,
        "top",
      );
    }
  }
  return {
    kind: "top",
    limit: limit ?? DEFAULT_TOP,
    stage: stage ?? "all",
    owner,
    view,
    ...(model ? { model } : {}),
  };
}

/** A real calendar day written YYYY-MM-DD. */
function validDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

function needLead(sub: Subcommand, args: string[]): string | ParseError {
  const lead = args[0];
  if (!lead) return error(`Say which lead: an email, id:<lead id> or ext:<externalId>.`, sub);
  return lead;
}

/** Parses the text after `/lead`. */
export function parseCommand(raw: string): ParseResult {
  const text = unescapeSlack(raw).trim();
  if (text === "") return { kind: "help" };
  const [first = "", ...args] = text.split(/\s+/);
  const word = first.toLowerCase();
  if (!(SUBCOMMANDS as readonly string[]).includes(word)) {
    const suggestion = suggest(word);
    return error(`"${first}" is not a /lead command.`, undefined, suggestion);
  }
  const sub = word as Subcommand;
  switch (sub) {
    case "help": {
      const topic = args[0]?.toLowerCase();
      if (!topic) return { kind: "help" };
      if ((SUBCOMMANDS as readonly string[]).includes(topic)) {
        return { kind: "help", topic: topic as Subcommand };
      }
      return error(`There is no "${args[0]}" command.`, undefined, suggest(topic));
    }
    case "top":
      return parseTop(args);
    case "show":
    case "why":
    case "won":
    case "reopen": {
      const lead = needLead(sub, args);
      if (typeof lead !== "string") return lead;
      if (args.length > 1) return error(`${sub} takes one lead (got "${args.join(" ")}").`, sub);
      return { kind: sub, lead };
    }
    case "find": {
      const q = args.join(" ").trim();
      if (q.length === 0) return { kind: "findForm" };
      if (q.length < 2) return error("Give at least two characters to search for.", "find");
      return { kind: "find", text: q };
    }
    case "lost": {
      const lead = needLead(sub, args);
      if (typeof lead !== "string") return lead;
      const rest = args.slice(1);
      if (rest.length === 0) return { kind: "lost", lead };
      const reason = normaliseReason(rest[0] ?? "");
      if (reason) {
        const note = rest.slice(1).join(" ").trim();
        return { kind: "lost", lead, reason, note: note || undefined };
      }
      // Free text without a known reason is kept as the note under "other".
      return { kind: "lost", lead, reason: "other", note: rest.join(" ") };
    }
    case "assign": {
      const lead = needLead(sub, args);
      if (typeof lead !== "string") return lead;
      const who = args[1];
      const userId = who ? parseUser(who) : undefined;
      if (!userId) return error("Say who gets the lead: mention them with @.", "assign");
      if (args.length > 2) return error("assign takes one lead and one @user.", "assign");
      return { kind: "assign", lead, userId };
    }
    case "role": {
      const userId = args[0] ? parseUser(args[0]) : undefined;
      if (!userId) return error("Say whose role to set: mention them with @.", "role");
      const role = args[1]?.toLowerCase();
      if (!role || !(ROLES as readonly string[]).includes(role)) {
        return error(`The role is one of ${ROLES.join(", ")}.`, "role");
      }
      return { kind: "role", userId, role: role as Role };
    }
    case "rules": {
      let settings = false;
      let model: string | undefined;
      for (const arg of args) {
        const key = modelArg(arg);
        if (key === null) return error(`"${arg}" names no model: use model:<key>.`, "rules");
        if (key !== undefined && model === undefined) model = key;
        else if (arg.toLowerCase() === "settings" && !settings) settings = true;
        else return error("rules takes settings, model:<key>, both or nothing.", "rules");
      }
      return { kind: "rules", settings, ...(model ? { model } : {}) };
    }
    case "away": {
      const [first, second] = args.map((x) => x.toLowerCase());
      if (first === "off" && args.length === 1) return { kind: "away", until: null };
      if (first === "until" && second && args.length === 2 && validDay(second)) {
        return { kind: "away", until: second };
      }
      return error("Say `away until YYYY-MM-DD` (the day you are back) or `away off`.", "away");
    }
    case "stats": {
      const period = args[0]?.toLowerCase() ?? DEFAULT_PERIOD;
      if (!isPeriod(period)) return error(`The period is one of ${PERIODS.join(", ")}.`, "stats");
      if (args.length > 1) return error("stats takes one period.", "stats");
      return { kind: "stats", period };
    }
    case "thresholds":
    case "weights": {
      const model = args.length === 1 ? modelArg(args[0] as string) : undefined;
      if (args.length > 1 || (args.length === 1 && !model))
        return error(`${sub} takes nothing, or the model to tune as model:<key>.`, sub);
      return { kind: sub, ...(model ? { model } : {}) };
    }
    case "suggest":
    case "history":
    case "routing":
      if (args.length > 0) return error(`${sub} takes no arguments.`, sub);
      return { kind: sub };
  }
}
