import type { App } from "@slack/bolt";
import type { SlackDeps } from "../../deps.js";
import { leadCommand } from "./lead.js";

/** The slash command's name; the manifest declares the same. */
export const LEAD_COMMAND = "/lead";

export function registerCommands(app: App, deps: SlackDeps): void {
  app.command(LEAD_COMMAND, leadCommand(deps));
}
