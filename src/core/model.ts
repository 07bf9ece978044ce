import { z } from "zod";

/** Longest list of timestamps kept per lead and rule: bounds stored state and rescoring work. */
export const MAX_COUNTED_OCCURRENCES = 100;
/** Rule ids appear in URLs, Slack action values and logs: keep them short and plain. */
const RULE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Lead fields a fit rule may test; `attributes.<key>` reaches custom attributes. */
export const LEAD_FIELDS = [
  "email",
  "externalId",
  "firstName",
  "lastName",
  "title",
  "company",
  "industry",
  "employees",
  "annualRevenue",
  "country",
  "source",
  "owner",
] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const fieldPath = z
  .string()
  .min(1)
  .refine(
    (f) => (LEAD_FIELDS as readonly string[]).includes(f) || /^attributes\.[\w.-]+$/.test(f),
    {
      message: `must be one of ${LEAD_FIELDS.join(", ")} or attributes.<key>`,
    },
  );

/**
 * A test on one value. String comparisons ignore case; `containsAny` is a substring test (for
 * URLs and domains), `hasWord` matches whole words or phrases (for titles: "cto" is not in
 * "Director").
 * No regular expressions: a model is edited by people and must not be able to hang the scorer.
 */
function conditionOn<F extends z.ZodType<string>>(field: F) {
  return z.discriminatedUnion("op", [
    z.strictObject({ field, op: z.literal("equals"), value: scalar }),
    z.strictObject({ field, op: z.literal("oneOf"), values: z.array(scalar).min(1) }),
    z.strictObject({
      field,
      op: z.literal("containsAny"),
      values: z.array(z.string().min(1)).min(1),
    }),
    z.strictObject({
      field,
      op: z.literal("hasWord"),
      values: z
        .array(z.string().regex(/[\p{L}\p{N}]/u, "a word needs at least one letter or digit"))
        .min(1),
    }),
    z
      .strictObject({
        field,
        op: z.literal("range"),
        min: z.number().optional(),
        max: z.number().optional(),
      })
      .refine((c) => c.min !== undefined || c.max !== undefined, {
        message: "a range needs min, max or both",
      })
      .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, {
        message: "min must not exceed max",
      }),
    z.strictObject({ field, op: z.literal("present") }),
    z.strictObject({ field, op: z.literal("absent") }),
  ]);
}

/** Conditions on a lead field (fit rules) and on an event property (engagement filters). */
export const conditionSchema = conditionOn(z.string().min(1));
export const fitConditionSchema = conditionOn(fieldPath);
export type Condition = z.infer<typeof conditionSchema>;

const ruleBase = {
  id: z.string().regex(RULE_ID, "use lowercase letters, digits, - and _ (max 64)"),
  label: z.string().min(1).max(80),
  points: z
    .number()
    .refine((p) => p !== 0, "points must not be 0")
    .refine((p) => Math.abs(p) <= 1000, "points must be between -1000 and 1000"),
};

/** A fit rule tests who the lead is; all `when` conditions must hold. */
export const fitRuleSchema = z.strictObject({
  ...ruleBase,
  when: z.array(fitConditionSchema).min(1, "a fit rule needs at least one condition"),
});
export type FitRule = z.infer<typeof fitRuleSchema>;

/** An engagement rule scores events of one type, optionally filtered on their properties. */
export const engagementRuleSchema = z
  .strictObject({
    ...ruleBase,
    event: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "event types are snake_case"),
    where: z.array(conditionSchema).default([]),
    /** Only the most recent `maxCount` occurrences count. */
    maxCount: z
      .number()
      .int("The cap on occurrences is a whole number.")
      .min(1, "The cap on occurrences must be at least 1.")
      .max(MAX_COUNTED_OCCURRENCES, `The cap on occurrences is at most ${MAX_COUNTED_OCCURRENCES}.`)
      .default(10),
    /** Occurrences older than this no longer count; unset counts all time. */
    windowDays: z
      .number()
      .positive("A window must be above 0 days.")
      .max(3650, "A window is at most 3650 days.")
      .optional(),
    /** Each occurrence's points halve every `halfLifeDays`; unset never decays. */
    halfLifeDays: z
      .number()
      .positive("A half-life must be above 0 days.")
      .max(3650, "A half-life is at most 3650 days.")
      .optional(),
  })
  .refine((r) => !(r.points < 0 && r.halfLifeDays !== undefined), {
    message: "a negative rule cannot decay (decay would raise the score over time); use windowDays",
    path: ["halfLifeDays"],
  });
export type EngagementRule = z.infer<typeof engagementRuleSchema>;

export const STAGES = ["lead", "mql", "sql"] as const;
export type Stage = (typeof STAGES)[number];
/** Order of the stages: a move to a higher rank is a crossing worth an alert. */
export const STAGE_RANK: Readonly<Record<Stage, number>> = { lead: 0, mql: 1, sql: 2 };
export const GRADES = ["A", "B", "C", "D"] as const;
export type Grade = (typeof GRADES)[number];
export const LEVELS = [1, 2, 3, 4] as const;
export type Level = (typeof LEVELS)[number];

/** Bands from best to worst must step down, each refusal on the band that breaks the order. */
function orderedBands(
  ctx: z.RefinementCtx,
  what: "Grade" | "Level",
  mins: readonly number[],
  names: readonly string[],
): void {
  for (let i = 1; i < mins.length; i++) {
    const prev = mins[i - 1] as number;
    if ((mins[i] as number) >= prev) {
      ctx.addIssue({
        code: "custom",
        message: `${what} ${names[i]} must start below ${what.toLowerCase()} ${names[i - 1]} (${prev}): bands go from best to worst.`,
        path: [names[i] as string],
      });
    }
  }
}
/** Model keys name a model in commands and URLs (`model:emea`): short, lowercase, plain. */
export const MODEL_KEY = /^[a-z][a-z0-9_-]{0,31}$/;
/** The model every lead falls back to; it has no segment and exists from the first start. */
export const DEFAULT_MODEL_KEY = "default";
/** Priority of a segment that states none: segments are tried lowest priority first. */
export const DEFAULT_SEGMENT_PRIORITY = 100;

/** Which leads a model scores: all conditions hold on the lead's fields, as in a fit rule. */
export const segmentSchema = z.strictObject({
  when: z.array(fitConditionSchema).min(1, "a segment needs at least one condition"),
  /** Segments are tried in ascending priority (then by key); the first match scores the lead. */
  priority: z.number().int().min(0).max(10_000).default(DEFAULT_SEGMENT_PRIORITY),
});
export type Segment = z.infer<typeof segmentSchema>;

export const modelSchema = z
  .strictObject({
    /** Short name of the model (`emea`); left out, the model is the default one. */
    key: z.string().regex(MODEL_KEY, "use lowercase letters, digits, - and _ (max 32)").optional(),
    /** The leads this model scores; only the default model has none. */
    segment: segmentSchema.optional(),
    name: z.string().min(1).max(80),
    description: z.string().max(2000).optional(),
    fit: z.strictObject({
      /** Positive fit points stop here; negative points still subtract. */
      cap: z.number().positive("The fit cap must be above 0: at 0 no fit rule could add points."),
      rules: z.array(fitRuleSchema),
    }),
    engagement: z.strictObject({
      cap: z
        .number()
        .positive("The engagement cap must be above 0: at 0 no event could add points."),
      rules: z.array(engagementRuleSchema),
      /** Subtract `points` (negative) once no event has arrived for `afterDays`. */
      inactivity: z
        .strictObject({
          afterDays: z.number().positive("The inactivity period must be above 0 days."),
          points: z
            .number()
            .negative("The inactivity penalty must be below 0: it subtracts from quiet leads."),
        })
        .optional(),
    }),
    thresholds: z
      .strictObject({
        // At 0 or below every new lead would be an MQL the moment it is created.
        mql: z
          .number()
          .positive("The MQL threshold must be above 0, or every new lead would be an MQL."),
        sql: z.number(),
        /** A lead leaves a stage only when it falls this far below the threshold that let it in. */
        hysteresis: z
          .number()
          .min(0, "Hysteresis cannot be negative: 0 lets a lead drop back at once.")
          .default(5),
      })
      .superRefine((t, ctx) => {
        if (t.sql <= t.mql) {
          ctx.addIssue({
            code: "custom",
            message: `The SQL threshold must be above the MQL threshold (${t.mql}).`,
            path: ["sql"],
          });
        }
        // A band as wide as the MQL threshold would keep an MQL forever, whatever its score.
        if (t.hysteresis >= t.mql) {
          ctx.addIssue({
            code: "custom",
            message: `Hysteresis must be below the MQL threshold (${t.mql}), or no MQL would ever drop back.`,
            path: ["hysteresis"],
          });
        }
      }),
    /** Minimum fit points for grades A, B and C; anything lower is D. */
    grades: z
      .strictObject({ A: z.number(), B: z.number(), C: z.number() })
      .superRefine((g, ctx) => orderedBands(ctx, "Grade", [g.A, g.B, g.C], ["A", "B", "C"])),
    /** Minimum engagement points for levels 1, 2 and 3; anything lower is 4. */
    levels: z
      .strictObject({ "1": z.number(), "2": z.number(), "3": z.number() })
      .superRefine((l, ctx) =>
        orderedBands(ctx, "Level", [l["1"], l["2"], l["3"]], ["1", "2", "3"]),
      ),
  })
  .superRefine((m, ctx) => {
    const isDefault = (m.key ?? DEFAULT_MODEL_KEY) === DEFAULT_MODEL_KEY;
    if (isDefault && m.segment)
      ctx.addIssue({
        code: "custom",
        message: "the default model scores every lead no segment takes: it has no segment",
        path: ["segment"],
      });
    if (!isDefault && !m.segment)
      ctx.addIssue({
        code: "custom",
        message: `model "${m.key}" needs a segment: the leads it scores`,
        path: ["segment"],
      });
    const seen = new Set<string>();
    const all = [
      ...m.fit.rules.map((r, i) => ({ id: r.id, path: ["fit", "rules", i, "id"] })),
      ...m.engagement.rules.map((r, i) => ({ id: r.id, path: ["engagement", "rules", i, "id"] })),
    ];
    for (const { id, path } of all) {
      if (seen.has(id))
        ctx.addIssue({ code: "custom", message: `duplicate rule id "${id}"`, path });
      seen.add(id);
    }
  });

export type ScoringModel = z.infer<typeof modelSchema>;
export type ScoringModelInput = z.input<typeof modelSchema>;

/** What a lead is, as the scorer sees it. */
export interface LeadFacts {
  email?: string | null;
  externalId?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  title?: string | null;
  company?: string | null;
  industry?: string | null;
  employees?: number | null;
  annualRevenue?: number | null;
  country?: string | null;
  source?: string | null;
  owner?: string | null;
  attributes?: Record<string, unknown> | null;
}

/** One event as the scorer sees it; `at` is epoch milliseconds. */
export interface ActivityEvent {
  type: string;
  at: number;
  properties?: Record<string, unknown> | null;
}

/**
 * The per-lead state the scorer keeps instead of re-reading events: for each engagement rule, the
 * epoch-ms times of its most recent counted occurrences (newest first, at most `maxCount`), and
 * the time of the newest engagement event (one that only negative rules match does not count).
 * Rule points are not stored, so a weight change rescores from this state alone.
 */
export interface Activity {
  rules: Record<string, number[]>;
  lastEventAt: number | null;
}

export interface BreakdownEntry {
  ruleId: string;
  label: string;
  group: "fit" | "engagement";
  /** Occurrences counted (1 for a fit rule). */
  count: number;
  /** Points before decay. */
  basePoints: number;
  /** Points after decay: what the lead actually gets. */
  points: number;
}

export interface ScoreResult {
  total: number;
  fit: number;
  engagement: number;
  grade: Grade;
  level: Level;
  /** Grade and level together, e.g. "A1". */
  matrix: `${Grade}${Level}`;
  /** The stage the score alone reaches, before hysteresis against a previous stage. */
  stage: Stage;
  breakdown: BreakdownEntry[];
}
