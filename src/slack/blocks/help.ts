import type { ParseError, Subcommand } from "../commands/parse.js";
import { SUBCOMMANDS, USAGE } from "../commands/parse.js";
import { context, type EphemeralMessage, ephemeral, escapeMrkdwn, section } from "./common.js";

function usageLine(s: Subcommand): string {
  const u = USAGE[s];
  return `\`/lead ${u.form}\` — ${u.summary}`;
}

/** The command reference, or one command's usage with an example. */
export function buildHelp(topic?: Subcommand): EphemeralMessage {
  if (topic) {
    const u = USAGE[topic];
    return ephemeral(`/lead ${u.form}`, [
      section(`${usageLine(topic)}\nExample: \`${u.example}\``),
    ]);
  }
  return ephemeral("Leadbot commands", [
    section("*Leadbot* scores your leads and tells you who to call. Commands:"),
    section(SUBCOMMANDS.map(usageLine).join("\n")),
    context(
      "Try `/lead top 10`, `/lead why jane@acme.com` or `/lead help top`. Answers are visible only to you.",
    ),
  ]);
}

/** What went wrong with what was typed, the closest command, and how to use it. */
export function buildUsageError(e: ParseError): EphemeralMessage {
  const lines = [`:warning: ${escapeMrkdwn(e.message)}`];
  const topic = e.usageOf ?? e.suggestion;
  if (e.suggestion) lines.push(`Did you mean \`/lead ${e.suggestion}\`?`);
  if (topic) {
    const u = USAGE[topic];
    lines.push(`Usage: \`/lead ${u.form}\``, `Example: \`${u.example}\``);
    return ephemeral(lines.join("\n"), [section(lines.join("\n"))]);
  }
  return ephemeral(lines.join("\n"), [
    section(lines.join("\n")),
    section(SUBCOMMANDS.map(usageLine).join("\n")),
    context("Examples: `/lead top 10`, `/lead show jane@acme.com`, `/lead lost 42 no_budget`"),
  ]);
}
