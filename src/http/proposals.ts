import type { ServerResponse } from "node:http";
import { z } from "zod";
import { InvalidModelError } from "../services/errors.js";
import type { Services } from "../services/index.js";
import type { ProposedChange } from "../services/proposals.js";
import { HttpError, sendJson } from "./router.js";

/** Longest proposer id and reason the API takes: a Slack user id, and a paragraph. */
const MAX_BY = 64;
const MAX_REASON = 1000;

/** `POST /api/v1/proposals`: a whole candidate model, as data or YAML, with who and why. */
export const proposalBody = z
  .object({
    model: z.record(z.string(), z.unknown()).optional(),
    yaml: z.string().min(1).optional(),
    by: z.string().trim().min(1).max(MAX_BY),
    reason: z.string().trim().max(MAX_REASON).optional(),
  })
  .refine((b) => (b.model === undefined) !== (b.yaml === undefined), {
    message: "send exactly one of model and yaml",
  });

const SHAPE =
  '{ "model": { … } or "yaml": "…", "by": "<Slack user id>", "reason": "…" } with exactly one of model and yaml';

/**
 * Proposes a whole model for managers to approve in Slack, through the same service as the Slack
 * forms. A model the schema refuses is a 422 naming the field (and, for YAML, the line).
 */
export async function proposeFromApi(
  services: Services,
  raw: unknown,
  res: ServerResponse,
): Promise<void> {
  const body = proposalBody.safeParse(raw);
  if (!body.success) throw new HttpError(400, "invalid_body", `The body must be ${SHAPE}.`);
  const { model, yaml, by, reason } = body.data;
  const change: ProposedChange =
    yaml !== undefined ? { kind: "model", yaml, source: "yaml" } : { kind: "model", model };
  try {
    const { proposal, preview } = await services.proposals.create({
      change,
      by,
      note: reason || undefined,
    });
    sendJson(res, 201, {
      proposal: {
        id: proposal.id,
        status: proposal.status,
        baseVersion: proposal.baseVersion,
        proposedBy: proposal.proposedBy,
        changes: preview.changes,
        impact: preview.impact,
      },
    });
  } catch (err) {
    if (!(err instanceof InvalidModelError)) throw err;
    const first = err.problems[0];
    sendJson(res, 422, {
      error: err.code,
      message: err.message,
      field: first?.field ?? "",
      ...(first?.line !== undefined ? { line: first.line } : {}),
      issues: err.problems,
    });
  }
}
