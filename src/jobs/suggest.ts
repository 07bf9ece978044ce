import type { Services } from "../services/index.js";
import type { Job } from "./scheduler.js";

export const SUGGEST_JOB = "weekly-suggestion";

/**
 * The weekly suggestion: fits a model from the outcomes and proposes it only when it beats the
 * current model's held-out AUC by the margin and no suggestion is pending; `announce` shows a new
 * proposal to the managers (Slack, when it is configured).
 */
export function suggestJob(
  services: Services,
  opts: {
    schedule: string;
    margin?: number | undefined;
    announce?: ((proposalId: number) => Promise<void>) | undefined;
  },
): Job {
  return {
    name: SUGGEST_JOB,
    schedule: opts.schedule,
    async run() {
      const r = await services.suggestions.weekly(opts.margin);
      if (r.proposed && opts.announce) await opts.announce(r.proposal.id);
      return r.reason;
    },
  };
}
