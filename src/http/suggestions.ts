import type { ServerResponse } from "node:http";
import { z } from "zod";
import type { Services } from "../services/index.js";
import { type Handler, HttpError, readJson, sendJson } from "./router.js";

/** Who the proposal is by when the request does not say: the API itself. */
const API_ACTOR = "api";

const suggestBody = z
  .object({
    by: z.string().trim().min(1).max(80).optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();

/**
 * `POST /api/v1/suggestions`: fits a model from the recorded outcomes. 201 with the proposal it
 * became (200 on a dry run), or 422 with the data need: how many won and lost it needs and has.
 */
export function suggestionsHandler(services: Services): Handler {
  return async (req, res: ServerResponse) => {
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["content-type"];
    const raw = hasBody ? await readJson(req) : {};
    const body = suggestBody.safeParse(raw ?? {});
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new HttpError(
        400,
        "invalid_body",
        `The body must be { "by"?: string, "dryRun"?: boolean }${issue ? ` (${issue.path.join(".") || "body"}: ${issue.message})` : ""}.`,
      );
    }
    const r = await services.suggestions.suggest({
      by: body.data.by ?? API_ACTOR,
      dryRun: body.data.dryRun,
    });
    if (!r.ok) {
      sendJson(res, 422, {
        error: r.code,
        message: r.message,
        need: r.need.need,
        have: r.need.have,
      });
      return;
    }
    const { evidence, backtest, need, fit } = r.learned;
    sendJson(res, r.proposal ? 201 : 200, {
      proposal: r.proposal ?? null,
      changes: r.preview?.changes ?? [],
      impact: r.preview?.impact ?? null,
      backtest,
      evidence,
      need,
      fit,
    });
  };
}
