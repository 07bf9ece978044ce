/**
 * Block Kit of model tuning, one file per surface: the thresholds and weights modals with their
 * impact preview, the proposal message managers approve or reject, its decided form, the reject
 * modal and the announcement of a new model version. Pure: plain data in, plain data out.
 */
export { buildModelActivated, type ModelActivated } from "./activated.js";
export { learnedBlocks, MAX_EVIDENCE_RULES } from "./learned.js";
export { buildPreviewBlocks, impactSummary, outcomesLine, type PreviewState } from "./preview.js";
export {
  buildProposalDecided,
  buildProposalMessage,
  buildProposalSubmitted,
  movesMostLeads,
  type ProposalDecision,
  type ProposalView,
  type SlackMessage,
} from "./proposal.js";
export { buildRejectModal, type DecisionMeta, decisionMetaSchema } from "./reject.js";
export { buildReviewModal, type ReviewMeta, reviewMetaSchema } from "./review.js";
export {
  MAX_DIFF_BLOCKS,
  MAX_GROUP_OPTIONS,
  MAX_LABEL,
  MAX_OPTION_TEXT,
  MAX_REASON,
  MAX_RULE_INPUTS,
  STAGE_LABEL,
} from "./shared.js";
export { buildThresholdsModal, type ThresholdsModalInput } from "./thresholds.js";
export {
  buildWeightsModal,
  needsRulePicker,
  type RuleWeight,
  ruleWeights,
  type WeightsModalInput,
} from "./weights.js";
