import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { InvalidChangeError } from "../../core/diff.js";
import { DomainError, StaleActionError } from "../../services/errors.js";
import { applyChange, type ProposedChange } from "../../services/proposals.js";
import { escapeMrkdwn } from "../blocks/common.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { TUNING_MQL_BLOCK, TUNING_RULE_PICKER_BLOCK } from "../ids.js";
import { formError } from "../listeners/respond.js";
import { notifyProposal, proposalView } from "./messages.js";
import { blockForField, firstWeightBlock, readChange, staleModelMessage } from "./modal.js";
import {
  decodeTuningMetadata,
  type FieldErrors,
  isEmptyChange,
  readNote,
  type TuningMetadata,
  tuningViewSchema,
  type ViewState,
} from "./state.js";
import type { ViewUpdates } from "./view-updates.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export type Checked =
  | { ok: true; change: ProposedChange; note: string | undefined }
  | { ok: false; errors: FieldErrors };

/** The block that carries an error about the form as a whole. */
function formBlock(kind: TuningMetadata["kind"], state: ViewState): string {
  if (kind === "thresholds") return TUNING_MQL_BLOCK;
  return (
    firstWeightBlock(state) ??
    (state[TUNING_RULE_PICKER_BLOCK] ? TUNING_RULE_PICKER_BLOCK : TUNING_MQL_BLOCK)
  );
}

/**
 * Everything a submission must satisfy before the modal closes, checked against the active model
 * at this moment: the model it was edited against is still the active one, every field holds an
 * acceptable value, something changed, and the changed model is valid as a whole.
 */
export async function checkSubmission(
  deps: SlackDeps,
  kind: TuningMetadata["kind"],
  metadata: string,
  state: ViewState,
): Promise<Checked> {
  const meta = decodeTuningMetadata(metadata);
  if (!meta || meta.kind !== kind) {
    return {
      ok: false,
      errors: {
        [formBlock(kind, state)]: formError(
          deps,
          new StaleActionError(`${kind} modal metadata: ${metadata}`),
          kind,
        ),
      },
    };
  }
  const active = await deps.services.models.active(meta.model);
  if (active.version !== meta.version) {
    return {
      ok: false,
      errors: { [formBlock(kind, state)]: staleModelMessage(kind, meta.version, active.version) },
    };
  }
  const read = readChange(kind, active, state);
  if (!read.ok) return read;
  if (isEmptyChange(read.value)) {
    const what = kind === "thresholds" ? "a threshold" : "a rule's points";
    return {
      ok: false,
      errors: { [formBlock(kind, state)]: `Nothing changed: edit ${what} before proposing.` },
    };
  }
  try {
    applyChange(active.model, read.value);
  } catch (err) {
    if (err instanceof InvalidChangeError) {
      return { ok: false, errors: { [blockForField(kind, err.field, state)]: err.message } };
    }
    throw err;
  }
  return { ok: true, change: read.value, note: readNote(state) };
}

/** Tells the proposer, by DM, what became of a submission after its modal closed. */
async function dm(deps: SlackDeps, client: WebClient, user: string, text: string): Promise<void> {
  try {
    await client.chat.postMessage({ channel: user, text });
  } catch (err) {
    deps.logger.warn({ err, user }, "could not DM the proposer");
  }
}

/**
 * A tuning modal submitted. Field errors go back into the modal; a valid change closes it at once,
 * and the proposal is then stored (measuring its impact may take a while on a large store) and
 * sent to the managers and the alert channel.
 */
export function tuningSubmitted(
  deps: SlackDeps,
  kind: TuningMetadata["kind"],
  updates: ViewUpdates,
) {
  return async ({ ack, body, client }: Args): Promise<void> => {
    const parsedView = tuningViewSchema.safeParse(body.view);
    if (!parsedView.success) {
      const stale = new StaleActionError(`${kind} submission: ${parsedView.error.message}`);
      await ack({
        response_action: "errors",
        errors: { [TUNING_MQL_BLOCK]: formError(deps, stale, kind) },
      });
      return;
    }
    const view = parsedView.data;
    const user = body.user.id;
    let checked: Checked;
    try {
      // Over the hourly limit: the modal says so and stays open, before anything is measured.
      await deps.services.proposals.checkAllowance(user);
      checked = await checkSubmission(deps, kind, view.private_metadata, view.state.values);
    } catch (err) {
      const message = formError(deps, err, `checking a ${kind} submission`);
      await ack({
        response_action: "errors",
        errors: { [formBlock(kind, view.state.values)]: message },
      });
      return;
    }
    if (!checked.ok) {
      await ack({ response_action: "errors", errors: checked.errors });
      return;
    }
    await ack();
    updates.end(view.id);
    try {
      const { proposal, preview } = await deps.services.proposals.create({
        change: checked.change,
        by: user,
        note: checked.note,
      });
      // The announcer may have posted it already (it wakes on every new proposal): post once.
      if (await deps.services.proposals.claimAnnouncement(proposal.id)) {
        const p = { ...proposalView(proposal), impact: preview.impact };
        const team = await deps.services.team.managers();
        await notifyProposal(deps, client, p, team);
      }
    } catch (err) {
      if (err instanceof DomainError || err instanceof InvalidChangeError) {
        await dm(
          deps,
          client,
          user,
          `:warning: Your change was not proposed: ${escapeMrkdwn(err.message)}`,
        );
        return;
      }
      deps.logger.error({ err, kind, user }, "creating a proposal failed");
      await dm(
        deps,
        client,
        user,
        ":warning: Leadbot could not store your proposed change; the app's log has the details. Try again in a moment.",
      );
    }
  };
}
