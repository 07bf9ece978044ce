import type { VersionHistory } from "../../services/models.js";
import {
  escapeMrkdwn,
  header,
  type KnownBlock,
  lineSections,
  mention,
  slackDate,
  truncate,
} from "./common.js";

/** A reason or comment is cut to this in the history; the audit log keeps it whole. */
const MAX_REASON_SHOWN = 300;
/** Versions `/lead history` shows; older ones are one `leadbot model versions` away. */
export const HISTORY_VERSIONS = 5;
/** Diff lines shown per version: the rest is one `leadbot model versions` away. */
const LINES_PER_VERSION = 12;

/** One version: who proposed and approved it, when, why, and what changed. */
export function versionLines(v: VersionHistory): string[] {
  const who = v.proposedBy
    ? `proposed by ${mention(v.proposedBy)}, approved by ${mention(v.approvedBy)}`
    : `loaded by ${escapeMrkdwn(v.approvedBy)}`;
  const lines = [`*v${v.version}* ${slackDate(v.createdAt)}: ${who}`];
  if (v.reason) lines.push(`> Reason: ${escapeMrkdwn(truncate(v.reason, MAX_REASON_SHOWN))}`);
  if (v.comment) lines.push(`> Comment: ${escapeMrkdwn(truncate(v.comment, MAX_REASON_SHOWN))}`);
  if (v.changes.length === 0) {
    lines.push(v.note ? `• ${escapeMrkdwn(v.note)}` : "• First version");
  }
  const shown = v.changes.slice(0, LINES_PER_VERSION).map((c) => `• ${escapeMrkdwn(c)}`);
  lines.push(...shown);
  if (v.changes.length > shown.length) {
    lines.push(`• …and ${v.changes.length - shown.length} more (\`leadbot model versions\`)`);
  }
  return lines;
}

/** The model versions, newest first, as sections within `maxBlocks`. */
export function buildVersionBlocks(
  versions: readonly VersionHistory[],
  maxBlocks: number,
): KnownBlock[] {
  if (versions.length === 0) return [];
  return [
    header("Scoring model versions"),
    ...lineSections(
      versions.slice(0, HISTORY_VERSIONS).flatMap(versionLines),
      maxBlocks - 1,
      "`leadbot model versions` lists them all.",
    ),
  ];
}
