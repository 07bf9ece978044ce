import type { types } from "@slack/bolt";
import type { Condition, ScoringModel } from "../../core/model.js";
import { MAX_TITLE, truncate } from "./common.js";
import { buildPreviewBlocks, type PreviewState } from "./tuning/preview.js";

/** Block Kit ids of the `/lead rules` modal and its settings form, shared with listeners and tests. */
export const RULES_MODAL = "rules_modal";
export const RULES_SETTINGS_MODAL = "rules_settings_modal";
export const RULE_PICK_BLOCK = "rule_pick";
export const RULE_PICK_ACTION = "rule_pick_select";
export const RULES_SETTINGS_OPEN = "rules_settings_open";
/** Every input's action id: the block id says which field it is. */
export const RULE_INPUT_ACTION = "rule_input";

export const RULE_FIELD_BLOCKS = {
  id: "rule_id",
  label: "rule_label",
  points: "rule_points",
  when: "rule_when",
  event: "rule_event",
  where: "rule_where",
  maxCount: "rule_max_count",
  windowDays: "rule_window_days",
  halfLifeDays: "rule_half_life_days",
  remove: "rule_remove",
  note: "rule_note",
} as const;

export const SETTINGS_BLOCKS = {
  fitCap: "settings_fit_cap",
  engagementCap: "settings_engagement_cap",
  inactivityAfterDays: "settings_inactivity_days",
  inactivityPoints: "settings_inactivity_points",
  gradeA: "settings_grade_a",
  gradeB: "settings_grade_b",
  gradeC: "settings_grade_c",
  level1: "settings_level_1",
  level2: "settings_level_2",
  level3: "settings_level_3",
  note: "rule_note",
} as const;

/**
 * A rule field's block id for one pick: Slack keeps what was typed in a block across updates,
 * so picking another rule must give its fields new ids for them to show that rule's values.
 */
export function ruleBlockId(base: string, pick: RulePick): string {
  return `${base}@${encodePick(pick)}`;
}

/** What the rule picker chose: a new rule of a group, or an existing rule by id. */
export type RulePick =
  | { kind: "new"; group: "fit" | "engagement" }
  | { kind: "existing"; group: "fit" | "engagement"; id: string };

export function encodePick(p: RulePick): string {
  return p.kind === "new" ? `new:${p.group}` : `${p.group}:${p.id}`;
}

export function decodePick(value: string | undefined): RulePick | undefined {
  const m = /^(new|fit|engagement):(.+)$/.exec(value ?? "");
  if (!m) return undefined;
  if (m[1] === "new")
    return m[2] === "fit" || m[2] === "engagement" ? { kind: "new", group: m[2] } : undefined;
  return { kind: "existing", group: m[1] as "fit" | "engagement", id: m[2] as string };
}

/** One condition as the person types it: `field op value, value` (see parseConditions). */
export function conditionText(c: Condition): string {
  switch (c.op) {
    case "equals":
      return `${c.field} equals ${c.value}`;
    case "oneOf":
    case "containsAny":
    case "hasWord":
      return `${c.field} ${c.op} ${c.values.join(", ")}`;
    case "range":
      return `${c.field} range ${c.min ?? ""}..${c.max ?? ""}`;
    case "present":
    case "absent":
      return `${c.field} ${c.op}`;
  }
}

type Block = types.KnownBlock;
type Option = types.PlainTextOption;

function text(s: string): types.PlainTextElement {
  return { type: "plain_text", text: s };
}

function input(
  blockId: string,
  label: string,
  initial: string | undefined,
  o: { optional?: boolean; multiline?: boolean; hint?: string; dispatch?: boolean } = {},
): Block {
  return {
    type: "input",
    block_id: blockId,
    optional: o.optional ?? false,
    label: text(label),
    ...(o.hint ? { hint: text(o.hint) } : {}),
    // Enter in a field measures the change again, as the weights modal does.
    ...(o.dispatch ? { dispatch_action: true } : {}),
    element: {
      type: "plain_text_input",
      action_id: RULE_INPUT_ACTION,
      multiline: o.multiline ?? false,
      ...(initial !== undefined && initial !== "" ? { initial_value: initial } : {}),
    },
  };
}

function option(label: string, value: string): Option {
  return { text: text(truncate(label, 75)), value };
}

export interface RulesModalInput {
  model: ScoringModel;
  version: number;
  pick: RulePick;
  metadata: string;
  preview: PreviewState;
}

/**
 * The `/lead rules` modal: a picker (a new fit or engagement rule, or an existing one), the
 * rule's fields filled with its values, and for an existing rule a box to remove it.
 */
export function buildRulesModal(i: RulesModalInput): types.ModalView {
  const { model, pick } = i;
  const field = (
    base: string,
    label: string,
    initial: string | undefined,
    o: { optional?: boolean; multiline?: boolean; hint?: string } = {},
  ) => input(ruleBlockId(base, pick), label, initial, { ...o, dispatch: true });
  const fit = pick.group === "fit";
  const rule =
    pick.kind === "existing"
      ? fit
        ? model.fit.rules.find((r) => r.id === pick.id)
        : model.engagement.rules.find((r) => r.id === pick.id)
      : undefined;
  const options: Option[] = [
    option("New fit rule (who the lead is)", "new:fit"),
    option("New engagement rule (what they do)", "new:engagement"),
    ...model.fit.rules.map((r) => option(`Fit: ${r.label} (${r.id})`, `fit:${r.id}`)),
    ...model.engagement.rules.map((r) =>
      option(`Engagement: ${r.label} (${r.id})`, `engagement:${r.id}`),
    ),
  ].slice(0, 100);
  const chosen = options.find((o) => o.value === encodePick(pick)) ?? options[0];
  const blocks: Block[] = [
    {
      type: "section",
      block_id: RULE_PICK_BLOCK,
      text: { type: "mrkdwn", text: `*Rule* (model v${i.version})` },
      accessory: {
        type: "static_select",
        action_id: RULE_PICK_ACTION,
        options,
        ...(chosen ? { initial_option: chosen } : {}),
      },
    },
    field(RULE_FIELD_BLOCKS.id, "Id", rule?.id, {
      hint: "lowercase letters, digits, - and _",
    }),
    field(RULE_FIELD_BLOCKS.label, "Label", rule?.label),
    field(RULE_FIELD_BLOCKS.points, "Points", rule ? String(rule.points) : undefined),
  ];
  if (fit) {
    const when = rule && "when" in rule ? rule.when.map(conditionText).join("\n") : undefined;
    blocks.push(
      field(RULE_FIELD_BLOCKS.when, "Conditions on lead fields (all must hold)", when, {
        multiline: true,
        hint: "One per line: field op values. Ops: equals, oneOf, containsAny, hasWord, range (min..max), present, absent. E.g. title hasWord vp, director",
      }),
    );
  } else {
    const eng = rule && "event" in rule ? rule : undefined;
    blocks.push(
      field(RULE_FIELD_BLOCKS.event, "Event type", eng?.event, { hint: "e.g. page_view" }),
      field(
        RULE_FIELD_BLOCKS.where,
        "Property condition (optional)",
        eng?.where.map(conditionText).join("\n"),
        { optional: true, multiline: true, hint: "e.g. url containsAny /pricing" },
      ),
      field(RULE_FIELD_BLOCKS.maxCount, "Cap: occurrences that count", String(eng?.maxCount ?? 10)),
      field(
        RULE_FIELD_BLOCKS.windowDays,
        "Window (days, optional)",
        eng?.windowDays !== undefined ? String(eng.windowDays) : undefined,
        { optional: true },
      ),
      field(
        RULE_FIELD_BLOCKS.halfLifeDays,
        "Half-life (days, optional)",
        eng?.halfLifeDays !== undefined ? String(eng.halfLifeDays) : undefined,
        { optional: true },
      ),
    );
  }
  if (rule) {
    blocks.push({
      type: "input",
      block_id: ruleBlockId(RULE_FIELD_BLOCKS.remove, pick),
      dispatch_action: true,
      optional: true,
      label: text("Remove"),
      element: {
        type: "checkboxes",
        action_id: RULE_INPUT_ACTION,
        options: [{ text: text("Remove this rule from the model"), value: "remove" }],
      },
    });
  }
  blocks.push(
    input(RULE_FIELD_BLOCKS.note, "Why (for the approver)", undefined, {
      optional: true,
      multiline: true,
    }),
    {
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: RULES_SETTINGS_OPEN,
          text: text("Caps, inactivity and bands…"),
        },
      ],
    },
    ...buildPreviewBlocks(i.preview),
  );
  return {
    type: "modal",
    callback_id: RULES_MODAL,
    private_metadata: i.metadata,
    title: text(truncate("Edit a rule", MAX_TITLE)),
    submit: text("Propose"),
    close: text("Cancel"),
    blocks,
  };
}

/** The settings form: caps, inactivity penalty, grade and level bands, as numbers. */
export function buildSettingsModal(i: { model: ScoringModel; metadata: string }): types.ModalView {
  const m = i.model;
  const n = (v: number | undefined) => (v === undefined ? undefined : String(v));
  const blocks: Block[] = [
    input(SETTINGS_BLOCKS.fitCap, "Fit cap (most fit points)", n(m.fit.cap)),
    input(SETTINGS_BLOCKS.engagementCap, "Engagement cap", n(m.engagement.cap)),
    input(
      SETTINGS_BLOCKS.inactivityAfterDays,
      "Inactivity: after days without events",
      n(m.engagement.inactivity?.afterDays),
      { optional: true, hint: "Leave both inactivity fields empty for no penalty" },
    ),
    input(
      SETTINGS_BLOCKS.inactivityPoints,
      "Inactivity: points (negative)",
      n(m.engagement.inactivity?.points),
      { optional: true },
    ),
    input(SETTINGS_BLOCKS.gradeA, "Grade A from fit points", n(m.grades.A)),
    input(SETTINGS_BLOCKS.gradeB, "Grade B from", n(m.grades.B)),
    input(SETTINGS_BLOCKS.gradeC, "Grade C from", n(m.grades.C)),
    input(SETTINGS_BLOCKS.level1, "Level 1 from engagement points", n(m.levels["1"])),
    input(SETTINGS_BLOCKS.level2, "Level 2 from", n(m.levels["2"])),
    input(SETTINGS_BLOCKS.level3, "Level 3 from", n(m.levels["3"])),
    input(SETTINGS_BLOCKS.note, "Why (for the approver)", undefined, {
      optional: true,
      multiline: true,
    }),
  ];
  return {
    type: "modal",
    callback_id: RULES_SETTINGS_MODAL,
    private_metadata: i.metadata,
    title: text(truncate("Model settings", MAX_TITLE)),
    submit: text("Propose"),
    close: text("Cancel"),
    blocks,
  };
}
