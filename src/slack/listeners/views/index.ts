import type { App, ViewSubmitAction } from "@slack/bolt";
import type { SlackDeps } from "../../deps.js";
import { LOST_REASON_MODAL } from "../../ids.js";
import { lostReasonSubmitted } from "./lost-reason.js";

export function registerViews(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(LOST_REASON_MODAL, lostReasonSubmitted(deps));
}
