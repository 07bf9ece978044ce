import type { Logger } from "../lib/logger.js";
import type { Services } from "../services/index.js";

/** What every Slack listener needs: the services, the team settings and a clock. */
export interface SlackDeps {
  services: Services;
  /** Channel id that receives MQL/SQL alerts and model-change announcements. */
  alertChannel: string | undefined;
  /** LEADBOT_ADMINS: admins from the first start. */
  admins: readonly string[];
  logger: Logger;
  clock: () => number;
}
