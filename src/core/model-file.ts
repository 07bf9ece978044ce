import { isNode, LineCounter, parseDocument, stringify } from "yaml";
import { modelSchema, type ScoringModel } from "./model.js";

export interface ModelIssue {
  /** Dotted path of the field at fault, e.g. `engagement.rules.2.points`. */
  path: string;
  /** 1-based line in the file, when the field (or its nearest parent) is in it. */
  line?: number;
  message: string;
}

/** A model file that does not parse or validate; the message lists every issue with its line. */
export class ModelFileError extends Error {
  readonly code = "model_invalid";
  constructor(
    readonly source: string,
    readonly issues: ModelIssue[],
  ) {
    super(
      `${source} is not a valid scoring model:\n${issues
        .map((i) => `  ${source}${i.line ? `:${i.line}` : ""}: ${i.path || "(top)"}: ${i.message}`)
        .join("\n")}`,
    );
    this.name = "ModelFileError";
  }
}

/**
 * Parses a scoring model from YAML (JSON is valid YAML too) and validates it. Errors point at the
 * line and field, so the person editing the file can go straight to it.
 */
export function parseModelText(text: string, source = "model"): ScoringModel {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ModelFileError(
      source,
      doc.errors.map((e) => ({
        path: "",
        line: lines.linePos(e.pos[0]).line,
        message: e.message.split("\n")[0] ?? e.message,
      })),
    );
  }
  let value: unknown;
  try {
    // Aliases are resolved here: an unknown anchor or too many aliases is the file's fault.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ModelFileError(source, [{ path: "", message: (err as Error).message }]);
  }
  const parsed = modelSchema.safeParse(value);
  if (parsed.success) return parsed.data;

  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    // The field itself may be missing: walk up to the nearest parent that is in the file.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  throw new ModelFileError(
    source,
    parsed.error.issues.map((i) => ({
      path: i.path.map(String).join("."),
      line: lineOf(i.path),
      message: i.message,
    })),
  );
}

/** Validates a model given as data (JSON, say); issues name the field by its dotted path. */
export function parseModelValue(value: unknown, source = "model"): ScoringModel {
  const parsed = modelSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ModelFileError(
    source,
    parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
  );
}

/**
 * A model as a YAML file that parseModelText reads back to the same model: what `model export`
 * and `model show` print, and what `model propose` accepts.
 */
export function modelToYaml(model: ScoringModel, header?: string): string {
  const body = stringify(model, { lineWidth: 0 });
  return header ? `${header.replace(/^/gm, "# ")}\n${body}` : body;
}
