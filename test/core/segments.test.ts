import { describe, expect, it } from "vitest";
import { describeChange, diffModels } from "../../src/core/diff.js";
import { modelSchema, type ScoringModel } from "../../src/core/model.js";
import {
  type KeyedModel,
  ModelSet,
  parseFieldEquals,
  segmentedCopy,
} from "../../src/core/segments.js";
import { loadModelFile } from "../../src/services/models.js";

const base: ScoringModel = loadModelFile();

function keyed(key: string, version: number, countries?: string[], priority = 100): KeyedModel {
  const model =
    countries === undefined
      ? base
      : segmentedCopy(base, {
          key,
          segment: { when: [{ field: "country", op: "oneOf", values: countries }], priority },
        });
  return { key, version, model };
}

describe("model segments", () => {
  it("when a lead matches no segment, then the default model scores it", () => {
    const set = new ModelSet([keyed("default", 1), keyed("emea", 2, ["DE", "FR"])]);
    expect(set.pick({ country: "US" }).key).toBe("default");
    expect(set.pick({}).key).toBe("default");
    expect(set.pick({ country: "de" }).key).toBe("emea");
  });

  it("when two segments take a lead, then the lower priority wins, and equal priorities go by key", () => {
    const set = new ModelSet([
      keyed("default", 1),
      keyed("dach", 3, ["DE", "AT", "CH"], 50),
      keyed("emea", 2, ["DE", "FR"], 10),
      keyed("europe", 4, ["DE", "FR", "AT"], 10),
    ]);
    expect(set.ordered.map((m) => m.key)).toEqual(["emea", "europe", "dach", "default"]);
    expect(set.pick({ country: "DE" }).key).toBe("emea");
    expect(set.pick({ country: "AT" }).key).toBe("europe");
    expect(set.pick({ country: "CH" }).key).toBe("dach");
  });

  it("when a model is swapped into a set, then the same key is replaced, not added", () => {
    const set = new ModelSet([keyed("default", 1), keyed("emea", 2, ["DE"])]);
    const next = set.with(keyed("emea", 5, ["FR"]));
    expect(next.ordered.map((m) => `${m.key}@${m.version}`)).toEqual(["emea@5", "default@1"]);
    expect(next.pick({ country: "DE" }).key).toBe("default");
  });

  it("when the default model has a segment or another model has none, then the schema refuses it", () => {
    const withSegment = modelSchema.safeParse({
      ...base,
      segment: { when: [{ field: "country", op: "equals", value: "DE" }] },
    });
    expect(withSegment.success).toBe(false);
    expect(withSegment.error?.issues[0]?.path).toEqual(["segment"]);
    const noSegment = modelSchema.safeParse({ ...base, key: "emea" });
    expect(noSegment.success).toBe(false);
    expect(noSegment.error?.issues[0]?.message).toContain("needs a segment");
    expect(modelSchema.safeParse({ ...base, key: "EMEA!" }).success).toBe(false);
  });

  it("when a segment is stored without a priority, then it gets the default one", () => {
    const m = modelSchema.parse({
      ...base,
      key: "emea",
      segment: { when: [{ field: "country", op: "equals", value: "DE" }] },
    });
    expect(m.segment?.priority).toBe(100);
  });

  it("when a segment changes, then the diff says from what to what", () => {
    const a = keyed("emea", 1, ["DE", "FR"]).model;
    const b = keyed("emea", 1, ["DE"]).model;
    expect(diffModels(a, b).map(describeChange)).toEqual([
      "Segment: country one of DE, FR (priority 100) → country one of DE (priority 100)",
    ]);
  });

  it("when the CLI short form is read, then one value is equals and several are oneOf", () => {
    expect(parseFieldEquals("country=DE")).toEqual({ field: "country", op: "equals", value: "DE" });
    expect(parseFieldEquals("country=DE, FR,")).toEqual({
      field: "country",
      op: "oneOf",
      values: ["DE", "FR"],
    });
    expect(parseFieldEquals("country=")).toBeUndefined();
    expect(parseFieldEquals("=DE")).toBeUndefined();
  });
});
