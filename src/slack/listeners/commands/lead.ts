import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import type { EphemeralMessage } from "../../blocks/common.js";
import { buildHelp, buildUsageError } from "../../blocks/help.js";
import { LIST_PAGE_SIZE } from "../../blocks/leads.js";
import { buildLostModal } from "../../blocks/lost.js";
import { type LeadCommand, parseCommand } from "../../commands/parse.js";
import type { SlackDeps } from "../../deps.js";
import { openFindModal } from "../../find/open.js";
import { openRulesModal } from "../../rules/index.js";
import { openTuningModal } from "../../tuning/index.js";
import { reportError } from "../respond.js";
import {
  answerAssign,
  answerHistory,
  answerOutcome,
  answerPage,
  answerReopen,
  answerRole,
  answerWhy,
} from "./answers.js";
import { answerStatsWithCharts, respondShow } from "./pictures.js";
import { answerAway, answerRouting, answerView } from "./routing-answers.js";
import { answerSuggest } from "./suggest.js";

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * `/lead …`: parsing and help are answered in the ack itself (no database, well inside 3 s);
 * everything else is acked empty first and answered through `respond()`.
 */
export function leadCommand(deps: SlackDeps) {
  return async ({ ack, command, respond, client }: Args): Promise<void> => {
    const parsed = parseCommand(command.text ?? "");
    if (parsed.kind === "error") {
      await ack(buildUsageError(parsed));
      return;
    }
    if (parsed.kind === "help") {
      await ack(buildHelp(parsed.topic));
      return;
    }
    await ack();
    const user = command.user_id;
    try {
      if (parsed.kind === "thresholds" || parsed.kind === "weights") {
        // trigger_id expires ~3 s after the click: open the modal before anything slow.
        await openTuningModal(parsed.kind, {
          client,
          triggerId: command.trigger_id,
          userId: user,
          deps,
          model: parsed.model,
        });
        return;
      }
      if (parsed.kind === "rules") {
        await openRulesModal({
          client,
          triggerId: command.trigger_id,
          deps,
          settings: parsed.settings,
          model: parsed.model,
        });
        return;
      }
      if (parsed.kind === "lost" && !parsed.reason) {
        const leadId = await deps.services.leads.resolveId(parsed.lead);
        const alert = await deps.services.alerts.latestPosted(leadId);
        await client.views.open({
          trigger_id: command.trigger_id,
          view: buildLostModal(
            {
              leadId,
              alertId: alert?.id,
              channel: alert?.channel ?? undefined,
              ts: alert?.messageTs ?? undefined,
              from: "command",
            },
            parsed.lead,
          ),
        });
        return;
      }
      if (parsed.kind === "findForm") {
        await openFindModal({
          deps,
          client,
          triggerId: command.trigger_id,
          userId: user,
          meta: { from: "channel", channel: command.channel_id },
        });
        return;
      }
      if (parsed.kind === "stats") {
        await answerStatsWithCharts(deps, client, {
          period: parsed.period,
          channelId: command.channel_id,
          respond,
        });
        return;
      }
      if (parsed.kind === "show") {
        await respondShow(deps, client, (m) => respond(m), parsed.lead);
        return;
      }
      if (parsed.kind === "suggest") {
        await answerSuggest(deps, client, respond, user);
        return;
      }
      const answer = await run(deps, parsed, user, client);
      await respond(answer);
    } catch (err) {
      await reportError(deps, respond, err, `/lead ${parsed.kind}`);
    }
  };
}

function run(
  deps: SlackDeps,
  c: Exclude<
    LeadCommand,
    {
      kind: "help" | "thresholds" | "weights" | "rules" | "findForm" | "stats" | "suggest" | "show";
    }
  >,
  user: string,
  client: Args["client"],
): Promise<EphemeralMessage> {
  switch (c.kind) {
    case "top":
      if (c.view) return answerView(deps, user, c);
      return answerPage(deps, {
        q: "top",
        limit: c.limit,
        offset: 0,
        stage: c.stage,
        owner: c.owner?.kind === "mine" ? user : c.owner?.userId,
        ...(c.model ? { model: c.model } : {}),
      });
    case "find":
      return answerPage(deps, { q: "find", limit: LIST_PAGE_SIZE, offset: 0, text: c.text });
    case "reopen":
      return answerReopen(deps, user, c.lead);
    case "why":
      return answerWhy(deps, c.lead);
    case "won":
      return answerOutcome(deps, client, { by: user, lead: c.lead, outcome: "won" });
    case "lost":
      return answerOutcome(deps, client, {
        by: user,
        lead: c.lead,
        outcome: "lost",
        reason: c.reason,
        note: c.note,
      });
    case "assign":
      return answerAssign(deps, user, c.lead, c.userId);
    case "role":
      return answerRole(deps, user, c.userId, c.role);
    case "history":
      return answerHistory(deps);
    case "routing":
      return answerRouting(deps, user);
    case "away":
      return answerAway(deps, user, c.until);
  }
}
