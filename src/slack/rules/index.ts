import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  BlockElementAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  types,
  ViewSubmitAction,
} from "@slack/bolt";
import { z } from "zod";
import { DomainError } from "../../services/errors.js";
import type { ActiveModel } from "../../services/models.js";
import { escapeMrkdwn } from "../blocks/common.js";
import {
  buildRulesModal,
  buildSettingsModal,
  decodePick,
  RULE_FIELD_BLOCKS,
  RULE_INPUT_ACTION,
  RULE_PICK_ACTION,
  RULES_MODAL,
  RULES_SETTINGS_MODAL,
  RULES_SETTINGS_OPEN,
  type RulePick,
  ruleBlockId,
} from "../blocks/rules.js";
import type { PreviewState } from "../blocks/tuning/preview.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { formError } from "../listeners/respond.js";
import { notifyProposal, proposalView } from "../tuning/messages.js";
import { ViewUpdates } from "../tuning/view-updates.js";
import {
  decodeRulesMetadata,
  encodeRulesMetadata,
  type FieldErrors,
  type FormResult,
  type RulesMetadata,
  type RulesState,
  readNote,
  readRuleForm,
  readSettingsForm,
} from "./form.js";

/**
 * `/lead rules`: add, edit or remove one rule in a modal whose impact preview follows each edit,
 * and a settings form for caps, inactivity and bands. Both submit a whole candidate model as a
 * proposal, through the same service path as `/lead weights`, for a manager to approve.
 */

const updates = new ViewUpdates();

const viewSchema = z.object({
  id: z.string(),
  hash: z.string().optional(),
  private_metadata: z.string().default(""),
  state: z.object({ values: z.record(z.string(), z.record(z.string(), z.any())) }),
});

const FIRST_PICK: RulePick = { kind: "new", group: "fit" };

function rulesView(active: ActiveModel, pick: RulePick, preview: PreviewState): types.ModalView {
  return buildRulesModal({
    model: active.model,
    version: active.version,
    pick,
    metadata: encodeRulesMetadata({ version: active.version, pick, model: active.key }),
    preview,
  });
}

/** Rule-field errors keyed by the block ids the modal shows for this pick. */
function forPick(errors: FieldErrors, pick: RulePick): FieldErrors {
  return Object.fromEntries(
    Object.entries(errors).map(([block, message]) => [
      block === RULE_FIELD_BLOCKS.note ? block : ruleBlockId(block, pick),
      message,
    ]),
  );
}

/** What the form would change, measured like the weights modal's preview. */
async function measure(
  deps: SlackDeps,
  active: ActiveModel,
  read: FormResult | undefined,
): Promise<PreviewState> {
  if (!read) {
    return {
      kind: "baseline",
      impact: await deps.services.proposals.measureImpact(active.model, active.model),
    };
  }
  if (!read.ok) return { kind: "invalid", problems: Object.values(read.errors) };
  try {
    const p = await deps.services.proposals.preview({ kind: "model", model: read.model });
    return { kind: "change", changes: p.changes, impact: p.impact };
  } catch (err) {
    if (err instanceof DomainError && err.code === "no_change") {
      return {
        kind: "baseline",
        impact: await deps.services.proposals.measureImpact(active.model, active.model),
      };
    }
    throw err;
  }
}

/** Called right after the command's ack: opens the modal, then measures the current model. */
export async function openRulesModal(args: {
  client: WebClient;
  triggerId: string;
  deps: SlackDeps;
  settings?: boolean;
  /** The key of the model to edit; absent for the default model. */
  model?: string | undefined;
}): Promise<void> {
  const { client, deps } = args;
  const active = await deps.services.models.active(args.model);
  if (args.settings) {
    await client.views.open({
      trigger_id: args.triggerId,
      view: buildSettingsModal({
        model: active.model,
        metadata: encodeRulesMetadata({
          version: active.version,
          pick: FIRST_PICK,
          model: active.key,
        }),
      }),
    });
    return;
  }
  const opened = await client.views.open({
    trigger_id: args.triggerId,
    view: rulesView(active, FIRST_PICK, { kind: "measuring" }),
  });
  const viewId = opened.view?.id;
  // An edit that came in before this point measures on its own; the baseline would undo it.
  if (!viewId || !updates.isLatest(viewId, 0)) return;
  const seq = updates.begin(viewId);
  const preview = await measure(deps, active, undefined);
  await updates.update(client, {
    viewId,
    seq,
    hash: opened.view?.hash,
    view: rulesView(active, FIRST_PICK, preview),
  });
}

type EditArgs = SlackActionMiddlewareArgs<BlockAction<BlockElementAction>> & AllMiddlewareArgs;

/** A rule picked or a field edited: the modal shows that rule, and what the edit would do. */
function edited(deps: SlackDeps) {
  return async ({ ack, body, action, client }: EditArgs): Promise<void> => {
    await ack();
    const parsed = viewSchema.safeParse(body.view);
    const meta = parsed.success ? decodeRulesMetadata(parsed.data.private_metadata) : undefined;
    if (!parsed.success || !meta) return;
    const view = parsed.data;
    try {
      const seq = updates.begin(view.id);
      const active = await deps.services.models.active(meta.model);
      const picked =
        action.action_id === RULE_PICK_ACTION && "selected_option" in action
          ? decodePick(action.selected_option?.value)
          : undefined;
      const pick = picked ?? meta.pick;
      const read = picked
        ? undefined
        : readRuleForm(active.model, pick, view.state.values as RulesState);
      const preview = await measure(deps, active, read);
      await updates.update(client, {
        viewId: view.id,
        seq,
        hash: view.hash,
        view: rulesView(active, pick, preview),
      });
    } catch (err) {
      deps.logger.error({ err }, "refreshing a rules preview failed");
    }
  };
}

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Checks a submitted rules or settings form, then proposes its model for approval. */
function submitted(deps: SlackDeps, settings: boolean) {
  return async ({ ack, body, client }: SubmitArgs): Promise<void> => {
    const parsed = viewSchema.safeParse(body.view);
    const meta: RulesMetadata | undefined = parsed.success
      ? decodeRulesMetadata(parsed.data.private_metadata)
      : undefined;
    const topBlock = (pick: RulePick) =>
      settings ? RULE_FIELD_BLOCKS.note : ruleBlockId(RULE_FIELD_BLOCKS.id, pick);
    if (!parsed.success || !meta) {
      await ack({
        response_action: "errors",
        errors: {
          [RULE_FIELD_BLOCKS.note]: "This form is out of date: close it and run /lead rules again.",
        },
      });
      return;
    }
    const state = parsed.data.state.values as RulesState;
    let read: FormResult;
    try {
      const active = await deps.services.models.active(meta.model);
      if (active.version !== meta.version) {
        await ack({
          response_action: "errors",
          errors: {
            [topBlock(meta.pick)]:
              `The model changed to v${active.version} since this form opened: close it and start again.`,
          },
        });
        return;
      }
      read = settings
        ? readSettingsForm(active.model, state)
        : readRuleForm(active.model, meta.pick, state);
      if (read.ok) await deps.services.proposals.preview({ kind: "model", model: read.model });
    } catch (err) {
      await ack({
        response_action: "errors",
        errors: { [topBlock(meta.pick)]: formError(deps, err, "checking a rules form") },
      });
      return;
    }
    if (!read.ok) {
      await ack({
        response_action: "errors",
        errors: settings ? read.errors : forPick(read.errors, meta.pick),
      });
      return;
    }
    await ack();
    const user = body.user.id;
    try {
      const { proposal, preview } = await deps.services.proposals.create({
        change: { kind: "model", model: read.model },
        by: user,
        note: readNote(state),
      });
      const team = await deps.services.team.managers();
      await notifyProposal(
        deps,
        client,
        { ...proposalView(proposal), impact: preview.impact },
        team,
      );
    } catch (err) {
      deps.logger.error({ err, user }, "proposing a rules change failed");
      await client.chat
        .postMessage({
          channel: user,
          text: `:warning: Your change was not proposed: ${escapeMrkdwn((err as Error).message)}`,
        })
        .catch(() => undefined);
    }
  };
}

/** The settings button in the rules modal: the settings form, pushed over it. */
function settingsOpened(deps: SlackDeps) {
  return async ({ ack, body, client }: EditArgs): Promise<void> => {
    await ack();
    try {
      // The settings are those of the model the rules modal underneath is editing.
      const parsed = viewSchema.safeParse(body.view);
      const meta = parsed.success ? decodeRulesMetadata(parsed.data.private_metadata) : undefined;
      const active = await deps.services.models.active(meta?.model);
      await client.views.push({
        trigger_id: body.trigger_id,
        view: buildSettingsModal({
          model: active.model,
          metadata: encodeRulesMetadata({
            version: active.version,
            pick: FIRST_PICK,
            model: active.key,
          }),
        }),
      });
    } catch (err) {
      deps.logger.error({ err }, "opening the model settings failed");
    }
  };
}

export function registerRules(app: App, deps: SlackDeps): void {
  app.action<BlockAction<BlockElementAction>>(RULE_PICK_ACTION, edited(deps));
  app.action<BlockAction<BlockElementAction>>(RULE_INPUT_ACTION, edited(deps));
  app.action<BlockAction<BlockElementAction>>(RULES_SETTINGS_OPEN, settingsOpened(deps));
  app.view(RULES_MODAL, submitted(deps, false));
  app.view(RULES_SETTINGS_MODAL, submitted(deps, true));
}
