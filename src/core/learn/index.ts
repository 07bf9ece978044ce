/** Learning a points model from outcomes: what services call. */
export {
  type Backtest,
  backtestModel,
  calibrateBands,
  type ModelBacktest,
  scoreAt,
} from "./backtest.js";
export { type Candidate, candidateRules, type LearnExample } from "./features.js";
export {
  type DataNeed,
  dataNeed,
  holdoutSplit,
  MAX_RULES,
  MIN_NOT_WON,
  MIN_WON,
  type RuleEvidence,
  type Suggestion,
  type SuggestOptions,
  suggestModel,
} from "./suggest.js";
