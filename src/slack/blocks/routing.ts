import type { types } from "@slack/bolt";
import type { Condition } from "../../core/model.js";
import type { RoutingOverview } from "../../services/index.js";
import {
  context,
  type EphemeralMessage,
  ephemeral,
  escapeMrkdwn,
  header,
  type KnownBlock,
  lineSections,
  MAX_BLOCKS,
  mention,
  slackDate,
} from "./common.js";
import { inputAction, ROUTING_EDIT, ROUTING_MODAL, ROUTING_RULES_BLOCK } from "./ids.js";

/** Slack caps a text input at 3000 characters: the rules file is edited within that. */
const MAX_RULES_TEXT = 3000;

function conditionText(c: Condition): string {
  switch (c.op) {
    case "equals":
      return `${c.field} = ${c.value}`;
    case "oneOf":
      return `${c.field} in ${c.values.join(", ")}`;
    case "containsAny":
      return `${c.field} contains ${c.values.join(" or ")}`;
    case "hasWord":
      return `${c.field} has ${c.values.join(" or ")}`;
    case "range":
      return `${c.field} ${c.min ?? "…"}–${c.max ?? "…"}`;
    case "present":
      return `${c.field} given`;
    case "absent":
      return `${c.field} missing`;
  }
}

/** The rules in order, this week's assignments per person, and who is away. */
export function buildRoutingOverview(o: RoutingOverview, canEdit: boolean): EphemeralMessage {
  const rules = o.rules.map((r, i) => {
    const when = r.when.length > 0 ? r.when.map(conditionText).join(" and ") : "every lead";
    const to =
      r.target.kind === "user"
        ? mention(r.target.user)
        : `round robin over ${r.target.users.map(mention).join(", ")}`;
    return `${i + 1}. *${escapeMrkdwn(r.name)}*: ${escapeMrkdwn(when)} → ${to}`;
  });
  const shares = o.shares.map(
    (s) =>
      `${mention(s.owner)}: ${s.rule + s.claim + s.person} (${s.rule} routed, ${s.claim} claimed, ${s.person} assigned)`,
  );
  const away = o.away.map((a) => `${mention(a.userId)} until ${slackDate(a.until)}`);
  const blocks: KnownBlock[] = [header("Lead routing")];
  blocks.push(
    ...lineSections(
      rules.length > 0
        ? ["*Rules* (the first that matches an unowned MQL or SQL gives its owner)", ...rules]
        : ["*Rules*: none. Every qualified lead waits for someone to Claim it."],
      15,
      "…more in `leadbot routing show`.",
    ),
  );
  blocks.push(
    ...lineSections(
      [
        `*This week* (since ${slackDate(o.weekStart)})`,
        ...(shares.length > 0 ? shares : ["No assignments yet."]),
      ],
      15,
      "…",
    ),
  );
  if (away.length > 0) blocks.push(...lineSections(["*Away*", ...away], 5, "…"));
  if (canEdit) {
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: ROUTING_EDIT,
          text: { type: "plain_text", text: "Edit rules" },
        },
      ],
    });
  } else {
    blocks.push(context("Admins edit the rules. `/lead away until <date>` skips you meanwhile."));
  }
  const text = `Lead routing: ${o.rules.length} rule${o.rules.length === 1 ? "" : "s"}`;
  return ephemeral(text, blocks.slice(0, MAX_BLOCKS));
}

/** The rules as YAML in one text box: the same file `leadbot routing apply` reads. */
export function buildRoutingModal(yaml: string): types.ModalView {
  const initial = yaml.trim() === "rules: []" ? "" : yaml;
  return {
    type: "modal",
    callback_id: ROUTING_MODAL,
    title: { type: "plain_text", text: "Routing rules" },
    submit: { type: "plain_text", text: "Apply" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: ROUTING_RULES_BLOCK,
        optional: true,
        label: { type: "plain_text", text: "Rules (YAML), first match wins" },
        element: {
          type: "plain_text_input",
          action_id: inputAction(ROUTING_RULES_BLOCK),
          multiline: true,
          max_length: MAX_RULES_TEXT,
          ...(initial.length > 0 && initial.length <= MAX_RULES_TEXT
            ? { initial_value: initial }
            : {}),
          placeholder: {
            type: "plain_text",
            text: "rules:\n  - name: US\n    when: [{ field: country, op: equals, value: US }]\n    target: { kind: round_robin, users: [U01, U02] }",
          },
        },
      },
      context(
        "Conditions are those of the scoring model (country, industry, employees, attributes.*). Targets: `{ kind: user, user: U… }` or `{ kind: round_robin, users: [U…, U…] }`. Empty: no rules.",
      ),
    ],
  };
}
