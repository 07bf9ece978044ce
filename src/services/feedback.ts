/** What the alert buttons and the home tab read about alerts, as plain types. */
export type { AlertLead, AwaitingFeedback, PostedAlert } from "../db/queries/alerts.js";
