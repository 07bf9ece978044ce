import type { App, ViewSubmitAction } from "@slack/bolt";
import { FIND_MODAL, ROUTING_MODAL } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { LOST_REASON_MODAL } from "../../ids.js";
import { findSubmitted } from "./find.js";
import { lostReasonSubmitted } from "./lost-reason.js";
import { routingSubmitted } from "./routing.js";

export function registerViews(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(LOST_REASON_MODAL, lostReasonSubmitted(deps));
  app.view<ViewSubmitAction>(FIND_MODAL, findSubmitted(deps));
  app.view<ViewSubmitAction>(ROUTING_MODAL, routingSubmitted(deps));
}
