import { type Command, InvalidArgumentError } from "commander";
import { type Condition, DEFAULT_MODEL_KEY, DEFAULT_SEGMENT_PRIORITY } from "../core/model.js";
import { describeSegment, parseFieldEquals, segmentedCopy } from "../core/segments.js";
import type { Services } from "../services/index.js";

type WithServices = <T>(fn: (s: Services) => Promise<T>) => Promise<T>;

function condition(value: string, previous: Condition[] = []): Condition[] {
  const c = parseFieldEquals(value);
  if (!c) throw new InvalidArgumentError("expects field=value or field=a,b,c (e.g. country=DE,FR)");
  return [...previous, c];
}

function priority(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expects a whole number ≥ 0");
  return n;
}

/**
 * `leadbot model create` and `leadbot model list`: a new model is a copy of an active one with
 * its own key and segment, proposed for a manager's approval like any other model change.
 */
export function registerModelCommands(
  model: Command,
  withServices: WithServices,
  out: (line: string) => void,
): void {
  model
    .command("create <key>")
    .description("propose a new model for one segment of leads, copied from an active model")
    .requiredOption(
      "--when <field=values>",
      "a segment condition (repeat to require several)",
      condition,
    )
    .option("--from <key>", "the model to copy", DEFAULT_MODEL_KEY)
    .option("--priority <n>", "segments are tried lowest first", priority, DEFAULT_SEGMENT_PRIORITY)
    .option("--name <name>", "the new model's name")
    .requiredOption("--by <user>", "the Slack user id proposing it")
    .option("--reason <text>", "why, shown to the approving manager")
    .action(
      (
        key: string,
        o: {
          when: Condition[];
          from: string;
          priority: number;
          name?: string;
          by: string;
          reason?: string;
        },
      ) =>
        withServices(async (s) => {
          const base = await s.models.active(o.from);
          const { proposal, preview } = await s.proposals.create({
            change: {
              kind: "model",
              model: segmentedCopy(base.model, {
                key,
                segment: { when: o.when, priority: o.priority },
                name: o.name,
              }),
            },
            by: o.by,
            note: o.reason,
          });
          out(`proposal #${proposal.id}: ${preview.changes.join("; ")}`);
          out(
            `${preview.impact.leads} leads would be scored by ${key}; a manager approves it in Slack`,
          );
        }),
    );
  model
    .command("list")
    .description("list the active models, in the order leads are offered to them")
    .action(() =>
      withServices(async (s) => {
        for (const m of await s.models.list()) {
          out(`${m.key}\tv${m.version}\t${m.model.name}\t${describeSegment(m.model)}`);
        }
      }),
    );
}
