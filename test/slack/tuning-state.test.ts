import { describe, expect, it } from "vitest";
import type { ScoringModel } from "../../src/core/model.js";
import { loadModelFile } from "../../src/services/models.js";
import {
  TUNING_HYSTERESIS_ACTION,
  TUNING_HYSTERESIS_BLOCK,
  TUNING_MQL_ACTION,
  TUNING_MQL_BLOCK,
  TUNING_NOTE_ACTION,
  TUNING_NOTE_BLOCK,
  TUNING_RULE_PICKER_ACTION,
  TUNING_RULE_PICKER_BLOCK,
  TUNING_SQL_ACTION,
  TUNING_SQL_BLOCK,
  TUNING_WEIGHT_ACTION,
} from "../../src/slack/ids.js";
import { readChange } from "../../src/slack/tuning/modal.js";
import {
  decodeTuningMetadata,
  encodeTuningMetadata,
  isEmptyChange,
  pickedRules,
  readNote,
  readNumber,
  readThresholds,
  readWeights,
  type ViewState,
  weightBlockId,
} from "../../src/slack/tuning/state.js";

const model: ScoringModel = loadModelFile();
const current = { mql: 50, sql: 80, hysteresis: 5 };

function thresholds(v: { mql?: string; sql?: string; hysteresis?: string }): ViewState {
  const field = (value: string | undefined) => ({ type: "number_input", value: value ?? null });
  return {
    [TUNING_MQL_BLOCK]: { [TUNING_MQL_ACTION]: field(v.mql) },
    [TUNING_SQL_BLOCK]: { [TUNING_SQL_ACTION]: field(v.sql) },
    [TUNING_HYSTERESIS_BLOCK]: { [TUNING_HYSTERESIS_ACTION]: field(v.hysteresis) },
  };
}

function weights(v: Record<string, string>): ViewState {
  return Object.fromEntries(
    Object.entries(v).map(([id, value]) => [
      weightBlockId(id),
      { [TUNING_WEIGHT_ACTION]: { type: "number_input", value } },
    ]),
  );
}

describe("reading a number field", () => {
  it.each([
    ["50", 50],
    [" 12.5 ", 12.5],
    ["-3", -3],
    ["+4", 4],
    [".5", 0.5],
  ])("when %j, then %d", (raw, n) => {
    expect(readNumber(raw)).toBe(n);
  });

  it.each(["", "   ", undefined])("when empty (%j), then unchanged", (raw) => {
    expect(readNumber(raw)).toBeUndefined();
  });

  it.each(["fifty", "1e3", "0x10", "12abc", "5,5", "--1"])(
    "when %j, then a sentence asks for digits",
    (raw) => {
      expect(readNumber(raw)).toEqual({ error: expect.stringContaining("is not a number") });
    },
  );
});

describe("reading the thresholds modal", () => {
  it("when one value changes, then the change holds only that key", () => {
    expect(readThresholds(thresholds({ mql: "45", sql: "80", hysteresis: "5" }), current)).toEqual({
      ok: true,
      value: { kind: "thresholds", thresholds: { mql: 45 } },
    });
  });

  it("when nothing changes, then the change is empty", () => {
    const r = readThresholds(thresholds({ mql: "50", sql: "", hysteresis: "5" }), current);
    expect(r.ok && isEmptyChange(r.value)).toBe(true);
  });

  it("when a field is not a number, then the error sits on that field", () => {
    expect(readThresholds(thresholds({ mql: "lots" }), current)).toEqual({
      ok: false,
      errors: { [TUNING_MQL_BLOCK]: expect.stringContaining('"lots" is not a number') },
    });
  });

  it("when SQL is not above MQL, then the error sits on the SQL field", () => {
    expect(readThresholds(thresholds({ mql: "80", sql: "80" }), current)).toEqual({
      ok: false,
      errors: { [TUNING_SQL_BLOCK]: "The SQL threshold must be above the MQL threshold (80)." },
    });
    // The MQL field alone can break the order too; SQL is still where the person fixes it.
    expect(readThresholds(thresholds({ mql: "90" }), current)).toMatchObject({
      ok: false,
      errors: { [TUNING_SQL_BLOCK]: expect.any(String) },
    });
  });

  it("when hysteresis is negative, then the error sits on the hysteresis field", () => {
    expect(readThresholds(thresholds({ hysteresis: "-1" }), current)).toEqual({
      ok: false,
      errors: { [TUNING_HYSTERESIS_BLOCK]: expect.stringContaining("cannot be negative") },
    });
  });

  it("when several fields are wrong, then each gets its own error", () => {
    const r = readThresholds(thresholds({ mql: "x", hysteresis: "-2" }), current);
    expect(r.ok ? [] : Object.keys(r.errors).sort()).toEqual(
      [TUNING_HYSTERESIS_BLOCK, TUNING_MQL_BLOCK].sort(),
    );
  });
});

describe("reading the weights modal", () => {
  it("when points change, then the change holds only the rules that differ", () => {
    expect(
      readWeights(weights({ title_vp: "25", demo_request: "30", email_open: "" }), model),
    ).toEqual({
      ok: true,
      value: { kind: "weights", weights: { title_vp: 25 } },
    });
  });

  it.each([
    ["0", "Points cannot be 0"],
    ["1001", "between -1000 and 1000"],
    ["-1000.5", "between -1000 and 1000"],
    ["abc", "is not a number"],
  ])("when points are %j, then the rule's field says why", (value, message) => {
    expect(readWeights(weights({ title_vp: value }), model)).toEqual({
      ok: false,
      errors: { [weightBlockId("title_vp")]: expect.stringContaining(message) },
    });
  });

  it("when a decaying rule would go negative, then its field explains the decay", () => {
    expect(readWeights(weights({ demo_request: "-5" }), model)).toEqual({
      ok: false,
      errors: { [weightBlockId("demo_request")]: expect.stringContaining("half-life 30 days") },
    });
    // A rule without decay may be negative.
    expect(readWeights(weights({ unsubscribe: "-40" }), model)).toEqual({
      ok: true,
      value: { kind: "weights", weights: { unsubscribe: -40 } },
    });
  });

  it("when a field names a rule the model no longer has, then that field says to reopen", () => {
    expect(readWeights(weights({ gone_rule: "5" }), model)).toEqual({
      ok: false,
      errors: { [weightBlockId("gone_rule")]: expect.stringContaining("/lead weights again") },
    });
  });

  it("when the rule picker is used, then its choices are read", () => {
    const state: ViewState = {
      [TUNING_RULE_PICKER_BLOCK]: {
        [TUNING_RULE_PICKER_ACTION]: {
          type: "multi_static_select",
          selected_options: [{ value: "title_vp" }, { value: "demo_request" }],
        },
      },
    };
    expect(pickedRules(state)).toEqual(["title_vp", "demo_request"]);
    expect(pickedRules({})).toBeUndefined();
  });
});

describe("note and metadata", () => {
  it("when a note is given, then it is trimmed; when blank, then there is none", () => {
    const note = (value: string) => ({
      [TUNING_NOTE_BLOCK]: { [TUNING_NOTE_ACTION]: { type: "plain_text_input", value } },
    });
    expect(readNote(note("  Too many MQLs  "))).toBe("Too many MQLs");
    expect(readNote(note("   "))).toBeUndefined();
  });

  it("when metadata is ours, then it round-trips; when not, then it is refused", () => {
    const raw = encodeTuningMetadata({ kind: "weights", version: 7 });
    expect(decodeTuningMetadata(raw)).toEqual({ kind: "weights", version: 7 });
    expect(decodeTuningMetadata("")).toBeUndefined();
    expect(decodeTuningMetadata("not json")).toBeUndefined();
    expect(decodeTuningMetadata(JSON.stringify({ kind: "other", version: 1 }))).toBeUndefined();
  });
});

describe("a weights modal with a rule picker", () => {
  /** The default model with enough extra fit rules to need the picker. */
  const big: ScoringModel = {
    ...model,
    fit: {
      ...model.fit,
      rules: [
        ...model.fit.rules,
        ...Array.from({ length: 80 }, (_, i) => ({
          id: `extra_${i}`,
          label: `Extra ${i}`,
          points: 1,
          when: [{ field: "country", op: "equals" as const, value: `C${i}` }],
        })),
      ],
    },
  };
  const active = {
    key: "default",
    version: 4,
    model: big,
    createdAt: new Date(),
    createdBy: "system",
  };

  it("when a field lingers for a rule that was unpicked, then its edit does not count", () => {
    const state: ViewState = {
      ...weights({ title_vp: "30", extra_3: "9" }),
      [TUNING_RULE_PICKER_BLOCK]: {
        [TUNING_RULE_PICKER_ACTION]: {
          type: "multi_static_select",
          selected_options: [{ value: "extra_3" }],
        },
      },
    };
    expect(readChange("weights", active, state)).toEqual({
      ok: true,
      value: { kind: "weights", weights: { extra_3: 9 }, modelKey: active.key },
    });
  });

  it("when the model fits without a picker, then every field counts", () => {
    const small = { ...active, model };
    expect(readChange("weights", small, weights({ title_vp: "30", email_open: "2" }))).toEqual({
      ok: true,
      value: { kind: "weights", weights: { title_vp: 30, email_open: 2 }, modelKey: small.key },
    });
  });
});
