import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ScoringModel } from "../core/model.js";
import { modelToYaml, parseModelText } from "../core/model-file.js";
import type { Services, VersionHistory } from "../services/index.js";

/** `leadbot model …` beyond validate: propose a file, read the history, show and export versions. */

/**
 * Proposes the model in `file` for managers to approve in Slack. The file is parsed here first
 * so a mistake names its file and line; the running app posts the proposal to the managers.
 */
export async function proposeModelFile(
  s: Services,
  p: { file: string; by: string; reason?: string | undefined },
): Promise<string[]> {
  const text = readFileSync(p.file, "utf8");
  parseModelText(text, p.file);
  const { proposal, preview } = await s.proposals.create({
    change: { kind: "model", yaml: text, source: p.file },
    by: p.by,
    note: p.reason,
  });
  const moved = preview.impact.up + preview.impact.down;
  return [
    `proposal #${proposal.id} on model v${proposal.baseVersion}, waiting for a manager's approval in Slack:`,
    ...preview.changes.map((c) => `  ${c}`),
    `impact: ${moved} of ${preview.impact.leads} leads change stage (${preview.impact.up} up, ${preview.impact.down} down)`,
  ];
}

/** Each version: number, when, who proposed and approved it, why, and its diff. */
export function versionLines(versions: readonly VersionHistory[]): string[] {
  const out: string[] = [];
  for (const v of versions) {
    const who = v.proposedBy
      ? `proposed by ${v.proposedBy}, approved by ${v.approvedBy}`
      : `by ${v.approvedBy}`;
    out.push(`v${v.version}\t${v.createdAt.toISOString()}\t${who}`);
    if (v.reason) out.push(`  reason: ${v.reason.replace(/\s+/g, " ")}`);
    if (v.comment) out.push(`  comment: ${v.comment.replace(/\s+/g, " ")}`);
    if (v.changes.length === 0) out.push(`  ${v.note ?? "first version"}`);
    for (const c of v.changes) out.push(`  ${c}`);
  }
  return out;
}

/** The file name a model is exported to: its name, made safe for any file system. */
export function exportFileName(model: ScoringModel): string {
  const slug = model.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${slug || "model"}.yaml`;
}

/** Writes the active model as a YAML file `propose` accepts back; returns the path written. */
export async function exportActiveModel(s: Services, dir: string): Promise<string> {
  const active = await s.models.active();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, exportFileName(active.model));
  writeFileSync(
    path,
    modelToYaml(
      active.model,
      `Scoring model v${active.version}, exported ${new Date(s.clock()).toISOString()}.\nEdit it and run: leadbot model propose ${path} --by <your Slack user id>`,
    ),
  );
  return path;
}
