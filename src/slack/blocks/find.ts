import type { types } from "@slack/bolt";
import { z } from "zod";
import { GRADES } from "../../core/model.js";
import {
  type LeadFilters,
  leadFiltersSchema,
  OUTCOME_FILTERS,
  VIEW_NAME,
} from "../../services/search.js";
import { context, type KnownBlock, mention } from "./common.js";
import {
  FIND_ACTIVE_BLOCK,
  FIND_GRADE_BLOCK,
  FIND_LEVEL_BLOCK,
  FIND_MAX_SCORE_BLOCK,
  FIND_MIN_SCORE_BLOCK,
  FIND_MODAL,
  FIND_OUTCOME_BLOCK,
  FIND_OWNER_BLOCK,
  FIND_OWNER_USER_BLOCK,
  FIND_SAVE_BLOCK,
  FIND_STAGE_BLOCK,
  FIND_TEXT_BLOCK,
  inputAction,
} from "./ids.js";

/** Where the modal was opened, so the answer goes back there. */
export const findMetaSchema = z.discriminatedUnion("from", [
  z.object({ from: z.literal("channel"), channel: z.string().min(1).max(40) }),
  z.object({ from: z.literal("home") }),
]);
export type FindMeta = z.infer<typeof findMetaSchema>;

type Option = { text: { type: "plain_text"; text: string }; value: string };
const option = (text: string, value: string): Option => ({
  text: { type: "plain_text", text },
  value,
});

const STAGE_OPTIONS = [option("Lead", "lead"), option("MQL", "mql"), option("SQL", "sql")];
const GRADE_OPTIONS = GRADES.map((g) => option(g, g));
const LEVEL_OPTIONS = [1, 2, 3, 4].map((l) => option(String(l), String(l)));
const OWNER_OPTIONS = [option("Me", "me"), option("Nobody", "nobody")];
const OUTCOME_LABEL: Record<(typeof OUTCOME_FILTERS)[number], string> = {
  none: "None yet",
  won: "Won",
  lost: "Lost",
  not_a_fit: "Not a fit",
};
const OUTCOME_OPTIONS = OUTCOME_FILTERS.map((o) => option(OUTCOME_LABEL[o], o));

function input(
  block: string,
  label: string,
  element: Record<string, unknown>,
  hint?: string,
): KnownBlock {
  return {
    type: "input",
    block_id: block,
    optional: true,
    label: { type: "plain_text", text: label },
    element: { ...element, action_id: inputAction(block) },
    ...(hint ? { hint: { type: "plain_text", text: hint } } : {}),
  } as KnownBlock;
}

const pick = (options: Option[], values: readonly string[]) =>
  options.filter((o) => values.includes(o.value));

/** The Find-leads form, pre-filled with `initial` (the filters the person used last). */
export function buildFindModal(
  meta: FindMeta,
  userId: string,
  initial: LeadFilters | undefined,
  views: readonly string[],
): types.ModalView {
  const f = initial ?? {};
  const ownerChoice = f.owner === userId ? "me" : f.owner === "nobody" ? "nobody" : undefined;
  const ownerUser = f.owner && !ownerChoice ? f.owner : undefined;
  const stage = f.stage ? pick(STAGE_OPTIONS, [f.stage])[0] : undefined;
  const outcome = f.outcome ? pick(OUTCOME_OPTIONS, [f.outcome])[0] : undefined;
  const blocks: KnownBlock[] = [
    input(
      FIND_TEXT_BLOCK,
      "Name, email or company",
      { type: "plain_text_input", ...(f.q ? { initial_value: f.q } : {}) },
      undefined,
    ),
    input(FIND_STAGE_BLOCK, "Stage", {
      type: "static_select",
      options: STAGE_OPTIONS,
      ...(stage ? { initial_option: stage } : {}),
    }),
    input(FIND_GRADE_BLOCK, "Grade (fit)", {
      type: "multi_static_select",
      options: GRADE_OPTIONS,
      ...(f.grade ? { initial_options: pick(GRADE_OPTIONS, f.grade) } : {}),
    }),
    input(FIND_LEVEL_BLOCK, "Level (engagement)", {
      type: "multi_static_select",
      options: LEVEL_OPTIONS,
      ...(f.level ? { initial_options: pick(LEVEL_OPTIONS, f.level.map(String)) } : {}),
    }),
    input(
      FIND_OWNER_BLOCK,
      "Owner",
      {
        type: "static_select",
        options: OWNER_OPTIONS,
        ...(ownerChoice ? { initial_option: pick(OWNER_OPTIONS, [ownerChoice])[0] } : {}),
      },
      "Or pick a person below.",
    ),
    input(FIND_OWNER_USER_BLOCK, "Owned by", {
      type: "users_select",
      ...(ownerUser ? { initial_user: ownerUser } : {}),
    }),
    input(FIND_MIN_SCORE_BLOCK, "Score at least", {
      type: "number_input",
      is_decimal_allowed: true,
      ...(f.minScore !== undefined ? { initial_value: String(f.minScore) } : {}),
    }),
    input(FIND_MAX_SCORE_BLOCK, "Score at most", {
      type: "number_input",
      is_decimal_allowed: true,
      ...(f.maxScore !== undefined ? { initial_value: String(f.maxScore) } : {}),
    }),
    input(FIND_ACTIVE_BLOCK, "Active within (days)", {
      type: "number_input",
      is_decimal_allowed: false,
      min_value: "1",
      ...(f.activeWithinDays !== undefined ? { initial_value: String(f.activeWithinDays) } : {}),
    }),
    input(FIND_OUTCOME_BLOCK, "Outcome", {
      type: "static_select",
      options: OUTCOME_OPTIONS,
      ...(outcome ? { initial_option: outcome } : {}),
    }),
    input(
      FIND_SAVE_BLOCK,
      "Save as view",
      { type: "plain_text_input", placeholder: { type: "plain_text", text: "hot-emea" } },
      "Then `/lead top 20 view:<name>` lists the same leads.",
    ),
  ];
  if (views.length > 0) blocks.push(context(`Your views: ${views.slice(0, 30).join(", ")}`));
  return {
    type: "modal",
    callback_id: FIND_MODAL,
    title: { type: "plain_text", text: "Find leads" },
    submit: { type: "plain_text", text: "Find" },
    close: { type: "plain_text", text: "Cancel" },
    private_metadata: JSON.stringify(meta),
    blocks,
  };
}

/** One input's state as Slack sends it. */
const stateSchema = z
  .object({
    value: z.string().nullish(),
    selected_option: z.object({ value: z.string() }).nullish(),
    selected_options: z.array(z.object({ value: z.string() })).nullish(),
    selected_user: z.string().nullish(),
  })
  .partial();
type Values = Record<string, Record<string, unknown>>;

function read(values: Values, block: string) {
  const parsed = stateSchema.safeParse(values[block]?.[inputAction(block)] ?? {});
  return parsed.success ? parsed.data : {};
}

const num = (s: string | null | undefined) =>
  s === null || s === undefined || s.trim() === "" ? undefined : Number(s);

/** Which input each filter comes from, for errors shown beside it. */
const BLOCK_OF: Record<string, string> = {
  q: FIND_TEXT_BLOCK,
  stage: FIND_STAGE_BLOCK,
  grade: FIND_GRADE_BLOCK,
  level: FIND_LEVEL_BLOCK,
  owner: FIND_OWNER_USER_BLOCK,
  minScore: FIND_MIN_SCORE_BLOCK,
  maxScore: FIND_MAX_SCORE_BLOCK,
  activeWithinDays: FIND_ACTIVE_BLOCK,
  outcome: FIND_OUTCOME_BLOCK,
};

export type FindSubmission =
  | { ok: true; filters: LeadFilters; saveAs: string | undefined }
  | { ok: false; errors: Record<string, string> };

/** The form's state as filters; "me" becomes the person's own id. */
export function parseFindSubmission(values: Values, userId: string): FindSubmission {
  const owner = read(values, FIND_OWNER_BLOCK).selected_option?.value;
  const ownerUser = read(values, FIND_OWNER_USER_BLOCK).selected_user ?? undefined;
  if (owner && ownerUser) {
    return {
      ok: false,
      errors: { [FIND_OWNER_USER_BLOCK]: "Choose Me or Nobody above, or a person here, not both." },
    };
  }
  const raw = {
    q: read(values, FIND_TEXT_BLOCK).value?.trim() || undefined,
    stage: read(values, FIND_STAGE_BLOCK).selected_option?.value,
    grade: read(values, FIND_GRADE_BLOCK).selected_options?.map((o) => o.value) || undefined,
    level: read(values, FIND_LEVEL_BLOCK).selected_options?.map((o) => Number(o.value)),
    owner: owner === "me" ? userId : (owner ?? ownerUser),
    minScore: num(read(values, FIND_MIN_SCORE_BLOCK).value),
    maxScore: num(read(values, FIND_MAX_SCORE_BLOCK).value),
    activeWithinDays: num(read(values, FIND_ACTIVE_BLOCK).value),
    outcome: read(values, FIND_OUTCOME_BLOCK).selected_option?.value,
  };
  // An emptied multi-select arrives as []: no filter, not an impossible one.
  if (raw.grade?.length === 0) raw.grade = undefined;
  if (raw.level?.length === 0) raw.level = undefined;
  const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = leadFiltersSchema.safeParse(clean);
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const block = BLOCK_OF[String(issue.path[0])] ?? FIND_TEXT_BLOCK;
      errors[block] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const saveAs = read(values, FIND_SAVE_BLOCK).value?.trim().toLowerCase() || undefined;
  if (saveAs && !VIEW_NAME.test(saveAs)) {
    return {
      ok: false,
      errors: { [FIND_SAVE_BLOCK]: "Use lowercase letters, digits, - and _ (up to 40)." },
    };
  }
  return { ok: true, filters: parsed.data, saveAs };
}

/** The filters in a few words, for the list's title. */
export function describeFilters(f: LeadFilters): string {
  const parts = [
    f.q && `matching "${f.q}"`,
    f.stage?.toUpperCase(),
    f.grade && `grade ${f.grade.join("/")}`,
    f.level && `level ${f.level.join("/")}`,
    f.owner === "nobody" ? "owned by nobody" : f.owner && `owned by ${mention(f.owner)}`,
    f.minScore !== undefined && `score ≥ ${f.minScore}`,
    f.maxScore !== undefined && `score ≤ ${f.maxScore}`,
    f.activeWithinDays !== undefined && `active in ${f.activeWithinDays} days`,
    f.outcome && `outcome ${OUTCOME_LABEL[f.outcome].toLowerCase()}`,
  ].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join(", ") : "all leads";
}
