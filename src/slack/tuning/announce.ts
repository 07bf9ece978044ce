import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { notifyProposal, proposalView } from "./messages.js";

/**
 * Posts proposals made away from Slack (the CLI, the API) to the managers, exactly as a proposal
 * from a Slack form is posted. Each proposal is claimed in the store before it is posted, so
 * several instances post it once; it wakes on proposals made in this process and polls for the
 * ones another process (the CLI) stored.
 */

/** How often to look for proposals stored by another process, such as `leadbot model propose`. */
const DEFAULT_POLL_MS = 5_000;

export interface ProposalAnnouncer {
  runOnce(): Promise<number>;
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createProposalAnnouncer(
  deps: SlackDeps,
  client: WebClient,
  pollMs: number = DEFAULT_POLL_MS,
): ProposalAnnouncer {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  async function runOnce(): Promise<number> {
    const rows = await deps.services.proposals.claimUnannounced();
    if (rows.length === 0) return 0;
    const managers = await deps.services.team.managers();
    for (const row of rows) {
      try {
        const learned = await deps.services.suggestions.learned(row.id);
        await notifyProposal(deps, client, { ...proposalView(row), learned }, managers);
      } catch (err) {
        deps.logger.error({ err, proposalId: row.id }, "posting a proposal failed");
      }
    }
    return rows.length;
  }

  /** One run at a time; a wake during a run runs once more after it. */
  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce()
      .catch((err) => {
        deps.logger.error({ err }, "looking for proposals to post failed");
        return 0;
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  return {
    runOnce,
    wake: kick,
    start() {
      kick();
      timer = setInterval(kick, pollMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
