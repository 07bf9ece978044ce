import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  BlockElementAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import type { PreviewState } from "../blocks/tuning/index.js";
import type { SlackDeps } from "../deps.js";
import {
  PROPOSAL_APPROVE,
  PROPOSAL_DECISION_MODAL,
  PROPOSAL_REJECT,
  PROPOSAL_REVIEW,
  PROPOSAL_REVIEW_MODAL,
  TUNING_HYSTERESIS_ACTION,
  TUNING_MQL_ACTION,
  TUNING_RULE_PICKER_ACTION,
  TUNING_SQL_ACTION,
  TUNING_THRESHOLDS_MODAL,
  TUNING_WEIGHT_ACTION,
  TUNING_WEIGHTS_MODAL,
} from "../ids.js";
import { approveClicked, rejectClicked, rejectSubmitted } from "./decide.js";
import { type OpenArgs, openModal, refreshModal, type TuningKind } from "./modal.js";
import { OnePerUser, PreviewCache } from "./preview-limits.js";
import { reviewClicked, reviewSubmitted } from "./review.js";
import { decodeTuningMetadata, tuningViewSchema } from "./state.js";
import { tuningSubmitted } from "./submit.js";
import { ViewUpdates } from "./view-updates.js";

/**
 * Tuning the scoring model from Slack: `/lead thresholds` and `/lead weights` open modals whose
 * impact preview follows each edit; a submission becomes a proposal sent to the managers, who
 * approve (a new model version, everything rescored, announced) or reject it with a reason.
 */

/** One per process: orders the preview updates of the modals open on this instance. */
const updates = new ViewUpdates();
/** One per process: measured previews by model version and change. */
const previews = new PreviewCache<PreviewState>();
/** One per process: one impact query in flight per person. */
const measuring = new OnePerUser();

/** Every field whose edit refreshes the impact preview. */
const DISPATCHING_ACTIONS = [
  TUNING_MQL_ACTION,
  TUNING_SQL_ACTION,
  TUNING_HYSTERESIS_ACTION,
  TUNING_WEIGHT_ACTION,
  TUNING_RULE_PICKER_ACTION,
] as const;

type EditArgs = SlackActionMiddlewareArgs<BlockAction<BlockElementAction>> & AllMiddlewareArgs;

function edited(deps: SlackDeps) {
  return async ({ ack, body, client }: EditArgs): Promise<void> => {
    await ack();
    const parsed = tuningViewSchema.safeParse(body.view);
    if (!parsed.success) return;
    const meta = decodeTuningMetadata(parsed.data.private_metadata);
    if (!meta) {
      deps.logger.warn({ viewId: parsed.data.id }, "tuning edit from a modal without our metadata");
      return;
    }
    const view = parsed.data;
    await measuring.run(
      body.user.id,
      () => refreshModal(deps, client, meta, view, updates, previews),
      (err) => deps.logger.error({ err, kind: meta.kind }, "refreshing a tuning preview failed"),
    );
  };
}

export function registerTuning(app: App, deps: SlackDeps): void {
  for (const actionId of DISPATCHING_ACTIONS) {
    app.action<BlockAction<BlockElementAction>>(actionId, edited(deps));
  }
  app.view(TUNING_THRESHOLDS_MODAL, tuningSubmitted(deps, "thresholds", updates));
  app.view(TUNING_WEIGHTS_MODAL, tuningSubmitted(deps, "weights", updates));
  app.action(PROPOSAL_REVIEW, reviewClicked(deps));
  app.view(PROPOSAL_REVIEW_MODAL, reviewSubmitted(deps));
  // Approve without the modal: messages posted before Review existed still carry the button.
  app.action(PROPOSAL_APPROVE, approveClicked(deps));
  app.action(PROPOSAL_REJECT, rejectClicked(deps));
  app.view(PROPOSAL_DECISION_MODAL, rejectSubmitted(deps));
}

/**
 * `/lead thresholds` and `/lead weights`, called right after the command's ack: opens the modal
 * with the active values, then shows how the current model stands. Rejects with a DomainError
 * (no active model yet) before anything opens, for the command to show.
 */
export async function openTuningModal(kind: TuningKind, args: OpenArgs): Promise<void> {
  await openModal(kind, args, updates);
}
