import type { types } from "@slack/bolt";
import { InvalidChangeError } from "../../core/diff.js";
import { DomainError } from "../../services/errors.js";
import type { ActiveModel } from "../../services/models.js";
import {
  buildThresholdsModal,
  buildWeightsModal,
  needsRulePicker,
  type PreviewState,
  ruleWeights,
} from "../blocks/tuning/index.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { TUNING_WEIGHT_BLOCK_PREFIX } from "../ids.js";
import { PreviewCache } from "./preview-limits.js";
import {
  encodeTuningMetadata,
  type FieldErrors,
  isEmptyChange,
  pickedRules,
  readNote,
  readThresholds,
  readWeights,
  THRESHOLD_FIELDS,
  type TuningMetadata,
  type TuningView,
  thresholdTexts,
  type ViewState,
  weightBlockId,
  weightTexts,
} from "./state.js";
import { slackErrorCode, type ViewUpdates } from "./view-updates.js";

export type TuningKind = TuningMetadata["kind"];

/** The modal for `kind`, showing the person's field texts from `state` over the model's values. */
export function tuningModal(
  kind: TuningKind,
  active: ActiveModel,
  state: ViewState | undefined,
  preview: PreviewState,
): types.ModalView {
  const metadata = encodeTuningMetadata({ kind, version: active.version, model: active.key });
  const model = { version: active.version, name: active.model.name };
  const note = state ? readNote(state) : undefined;
  if (kind === "thresholds") {
    return buildThresholdsModal({
      model,
      current: active.model.thresholds,
      values: state ? thresholdTexts(state) : undefined,
      note,
      preview,
      metadata,
    });
  }
  return buildWeightsModal({
    model,
    rules: ruleWeights(active.model),
    values: state ? weightTexts(state) : undefined,
    picked: state ? pickedRules(state) : undefined,
    note,
    preview,
    metadata,
  });
}

/**
 * The state as far as the change goes: with a rule picker, only the picked rules' fields count
 * (a field can linger in a payload for a moment after its rule was unpicked).
 */
export function effectiveState(kind: TuningKind, active: ActiveModel, state: ViewState): ViewState {
  if (kind !== "weights" || !needsRulePicker(ruleWeights(active.model))) return state;
  const picked = new Set(pickedRules(state) ?? []);
  return Object.fromEntries(
    Object.entries(state).filter(
      ([block]) =>
        !block.startsWith(TUNING_WEIGHT_BLOCK_PREFIX) ||
        picked.has(block.slice(TUNING_WEIGHT_BLOCK_PREFIX.length)),
    ),
  );
}

/** The name of the field a block holds, for sentences outside the field itself. */
export function fieldName(block: string, active: ActiveModel): string {
  for (const [key, f] of Object.entries(THRESHOLD_FIELDS)) {
    if (f.block === block)
      return key === "hysteresis" ? "Hysteresis" : `${key.toUpperCase()} threshold`;
  }
  if (block.startsWith(TUNING_WEIGHT_BLOCK_PREFIX)) {
    const id = block.slice(TUNING_WEIGHT_BLOCK_PREFIX.length);
    const rule = [...active.model.fit.rules, ...active.model.engagement.rules].find(
      (r) => r.id === id,
    );
    return rule ? rule.label : id;
  }
  return block;
}

/** The block that shows an error about `field` (a threshold key or a rule id) in this modal. */
export function blockForField(kind: TuningKind, field: string, state: ViewState): string {
  if (kind === "thresholds") {
    return (
      (THRESHOLD_FIELDS as Record<string, { block: string }>)[field]?.block ??
      THRESHOLD_FIELDS.mql.block
    );
  }
  const block = weightBlockId(field);
  return state[block] ? block : (firstWeightBlock(state) ?? block);
}

export function firstWeightBlock(state: ViewState): string | undefined {
  return Object.keys(state).find((b) => b.startsWith(TUNING_WEIGHT_BLOCK_PREFIX));
}

/** The proposed change a modal's fields describe, or the fields at fault. */
export function readChange(kind: TuningKind, active: ActiveModel, state: ViewState) {
  const s = effectiveState(kind, active, state);
  const read =
    kind === "thresholds"
      ? readThresholds(s, active.model.thresholds)
      : readWeights(s, active.model);
  return read.ok ? { ...read, value: { ...read.value, modelKey: active.key } } : read;
}

function problems(errors: FieldErrors, active: ActiveModel): string[] {
  return Object.entries(errors).map(
    ([block, message]) => `${fieldName(block, active)}: ${message}`,
  );
}

export function staleModelMessage(kind: TuningKind, base: number, active: number): string {
  return `The scoring model changed (v${base} → v${active}) while this was open. Close it and run /lead ${kind} again to start from the current values.`;
}

/** What the preview should say for the fields as they stand. */
export async function measurePreview(
  deps: SlackDeps,
  kind: TuningKind,
  meta: TuningMetadata,
  state: ViewState,
  cache?: PreviewCache<PreviewState>,
): Promise<{ active: ActiveModel; preview: PreviewState }> {
  const s = deps.services;
  const active = await s.models.active(meta.model);
  if (active.version !== meta.version) {
    return {
      active,
      preview: { kind: "failed", message: staleModelMessage(kind, meta.version, active.version) },
    };
  }
  const read = readChange(kind, active, state);
  if (!read.ok)
    return { active, preview: { kind: "invalid", problems: problems(read.errors, active) } };
  const key = PreviewCache.key(active.version, kind, read.value);
  const cached = cache?.get(key);
  if (cached) return { active, preview: cached };
  const measured = await measureChange(deps, active, read.value);
  // Failures are not kept: the next edit tries again.
  if (measured.kind === "baseline" || measured.kind === "change") cache?.set(key, measured);
  return { active, preview: measured };
}

async function measureChange(
  deps: SlackDeps,
  active: ActiveModel,
  change: Parameters<typeof isEmptyChange>[0],
): Promise<PreviewState> {
  const s = deps.services;
  if (isEmptyChange(change)) {
    return {
      kind: "baseline",
      impact: await s.proposals.measureImpact(active.model, active.model),
    };
  }
  try {
    const p = await s.proposals.preview(change);
    return { kind: "change", changes: p.changes, impact: p.impact };
  } catch (err) {
    if (err instanceof InvalidChangeError) {
      return { kind: "invalid", problems: [`${err.field}: ${err.message}`] };
    }
    if (err instanceof DomainError) return { kind: "failed", message: err.message };
    throw err;
  }
}

export interface OpenArgs {
  client: WebClient;
  triggerId: string;
  userId: string;
  deps: SlackDeps;
  /** The key of the model to tune; absent for the default model. */
  model?: string | undefined;
}

/**
 * Opens the thresholds or weights modal with the active model's values, then measures how the
 * current model stands and shows it. The modal opens first: a trigger_id lives about 3 s.
 * Rejects with a DomainError (no active model) before anything opens, for the caller to show.
 */
export async function openModal(
  kind: TuningKind,
  args: OpenArgs,
  updates: ViewUpdates,
): Promise<void> {
  const { client, deps } = args;
  const active = await deps.services.models.active(args.model);
  let opened: Awaited<ReturnType<WebClient["views"]["open"]>>;
  try {
    opened = await client.views.open({
      trigger_id: args.triggerId,
      view: tuningModal(kind, active, undefined, { kind: "measuring" }),
    });
  } catch (err) {
    if (slackErrorCode(err) === "expired_trigger_id") {
      throw new DomainError(
        "expired_trigger",
        `Slack took too long to open the form. Run /lead ${kind} again.`,
      );
    }
    throw err;
  }
  const viewId = opened.view?.id;
  if (!viewId) return;
  const seq = updates.begin(viewId);
  let preview: PreviewState;
  try {
    const impact = await deps.services.proposals.measureImpact(active.model, active.model);
    preview = { kind: "baseline", impact };
  } catch (err) {
    deps.logger.error({ err, kind, user: args.userId }, "measuring the current model failed");
    preview = {
      kind: "failed",
      message: "Leadbot could not measure the current model; edit a value to try again.",
    };
  }
  await updates.update(client, {
    viewId,
    seq,
    hash: opened.view?.hash,
    view: tuningModal(kind, active, undefined, preview),
  });
}

/**
 * An edit in an open modal (a dispatch_action field or the rule picker): measures the values as
 * they stand and rewrites the preview. Field texts are carried over, so nothing typed is lost.
 */
export async function refreshModal(
  deps: SlackDeps,
  client: WebClient,
  meta: TuningMetadata,
  view: TuningView,
  updates: ViewUpdates,
  cache?: PreviewCache<PreviewState>,
): Promise<void> {
  const seq = updates.begin(view.id);
  const state = view.state.values;
  let result: Awaited<ReturnType<typeof measurePreview>>;
  try {
    result = await measurePreview(deps, meta.kind, meta, state, cache);
  } catch (err) {
    deps.logger.error({ err, kind: meta.kind }, "measuring a tuning preview failed");
    const active = await deps.services.models.active(meta.model);
    result = {
      active,
      preview: {
        kind: "failed",
        message: "Leadbot could not measure this change; press Enter to try again.",
      },
    };
  }
  // A changed model keeps the modal on the version it was opened from, so the values shown stay
  // the ones the fields were edited against (submission then refuses it, saying why).
  const shownModel =
    result.active.version === meta.version
      ? result.active
      : await modelAt(deps, meta, result.active);
  const outcome = await updates.update(client, {
    viewId: view.id,
    seq,
    hash: view.hash,
    view: tuningModal(meta.kind, shownModel, state, result.preview),
  });
  if (outcome === "conflict")
    deps.logger.debug({ viewId: view.id }, "tuning preview superseded (hash_conflict)");
}

async function modelAt(
  deps: SlackDeps,
  meta: TuningMetadata,
  fallback: ActiveModel,
): Promise<ActiveModel> {
  try {
    const model = await deps.services.models.byVersion(meta.version);
    return { ...fallback, version: meta.version, model };
  } catch {
    return fallback;
  }
}
