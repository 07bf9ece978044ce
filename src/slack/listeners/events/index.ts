import type { App } from "@slack/bolt";
import type { SlackDeps } from "../../deps.js";
import { appHomeOpened } from "./app-home-opened.js";
import { dedupeEvents } from "./dedupe.js";

export function registerEvents(app: App, deps: SlackDeps): void {
  app.use(dedupeEvents(deps.services.slackEvents, deps.logger));
  app.event("app_home_opened", appHomeOpened(deps));
}
