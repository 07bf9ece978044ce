import type { App, BlockAction, ButtonAction, OverflowAction } from "@slack/bolt";
import { BURST_LIST } from "../../blocks/burst.js";
import {
  FIND_OPEN,
  HOME_FOUND_NEXT,
  HOME_FOUND_PREVIOUS,
  LEAD_MENU,
  LIST_PAGE,
  ROUTING_EDIT,
} from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { ALERT_CLAIM, ALERT_LOST, ALERT_NOT_A_FIT, ALERT_WON, HOME_REFRESH } from "../../ids.js";
import { alertClaim } from "./alert-claim.js";
import { alertLost } from "./alert-lost.js";
import { alertOutcome } from "./alert-outcome.js";
import { burstList } from "./burst-list.js";
import { findOpen } from "./find-open.js";
import { homeFoundPage } from "./home-found-page.js";
import { homeRefresh } from "./home-refresh.js";
import { leadMenu } from "./lead-menu.js";
import { listPage } from "./list-page.js";
import { routingEdit } from "./routing-edit.js";

export function registerActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ALERT_WON, alertOutcome(deps, "won"));
  app.action<BlockAction<ButtonAction>>(ALERT_NOT_A_FIT, alertOutcome(deps, "not_a_fit"));
  app.action<BlockAction<ButtonAction>>(ALERT_LOST, alertLost(deps));
  app.action<BlockAction<ButtonAction>>(ALERT_CLAIM, alertClaim(deps));
  app.action<BlockAction<OverflowAction>>(LEAD_MENU, leadMenu(deps));
  app.action<BlockAction<ButtonAction>>(LIST_PAGE, listPage(deps));
  app.action<BlockAction<ButtonAction>>(HOME_REFRESH, homeRefresh(deps));
  app.action<BlockAction<ButtonAction>>(HOME_FOUND_NEXT, homeFoundPage(deps));
  app.action<BlockAction<ButtonAction>>(HOME_FOUND_PREVIOUS, homeFoundPage(deps));
  app.action<BlockAction<ButtonAction>>(BURST_LIST, burstList(deps));
  app.action<BlockAction<ButtonAction>>(FIND_OPEN, findOpen(deps));
  app.action<BlockAction<ButtonAction>>(ROUTING_EDIT, routingEdit(deps));
}
