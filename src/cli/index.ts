import { readFileSync, statSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadEnv } from "../config/env.js";
import { ModelFileError, modelToYaml } from "../core/model-file.js";
import { loadDemoData } from "../demo/index.js";
import { type CsvKind, importCsv, writeErrorReport } from "../ingest/csv/index.js";
import { createLogger } from "../lib/logger.js";
import { DomainError } from "../services/errors.js";
import type { Services } from "../services/index.js";
import { loadModelFile } from "../services/models.js";
import { openServices } from "../services/open.js";
import { type LeadFilters, parseFilters } from "../services/search.js";
import { DEFAULT_PERIOD, isPeriod, PERIODS, type Period } from "../services/stats.js";
import { DEFAULT_SCOPES, isScope, SCOPES, type Scope } from "../services/tokens.js";
import { withProgress } from "./import-progress.js";
import { exportActiveModel, proposeModelFile, versionLines } from "./model.js";
import { registerModelCommands } from "./models.js";
import { statsLines } from "./stats-text.js";
import { CLI_ACTOR, suggestLines } from "./suggest.js";

const out = (line: string) => process.stdout.write(`${line}\n`);

interface TopCliOptions {
  stage: string;
  q?: string;
  grade?: string;
  level?: string;
  owner?: string;
  minScore?: string;
  maxScore?: string;
  activeWithinDays?: string;
  outcome?: string;
}

/** `leadbot top` options as the filters the service checks. */
function topFilters(o: TopCliOptions): LeadFilters {
  const list = (v: string | undefined) => v?.split(",").map((x) => x.trim());
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const raw = {
    q: o.q,
    stage: o.stage === "all" ? undefined : o.stage,
    grade: list(o.grade)?.map((g) => g.toUpperCase()),
    level: list(o.level)?.map(Number),
    owner: o.owner,
    minScore: number(o.minScore),
    maxScore: number(o.maxScore),
    activeWithinDays: number(o.activeWithinDays),
    outcome: o.outcome,
  };
  return parseFilters(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError("expects a positive whole number");
  return n;
}

function parseScopes(value: string): Scope[] {
  const scopes = value
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  const bad = scopes.filter((v) => !isScope(v));
  if (scopes.length === 0 || bad.length > 0)
    throw new InvalidArgumentError(`expects scopes among ${SCOPES.join(", ")}`);
  return scopes as Scope[];
}

/** Opens the store the environment names (migrated, model loaded), runs `fn`, closes it. */
async function withServices<T>(fn: (s: Services) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const logger = createLogger(env.LOG_LEVEL === "info" ? "warn" : env.LOG_LEVEL);
  const opened = await openServices({
    url: env.DATABASE_URL,
    dataDir: env.LEADBOT_DATA_DIR,
    logger,
    modelFile: env.LEADBOT_MODEL_FILE,
    admins: env.LEADBOT_ADMINS,
    suppressionKey: env.LEADBOT_SUPPRESSION_KEY,
  });
  try {
    return await fn(opened.services);
  } finally {
    await opened.close();
  }
}

export function buildCli(): Command {
  const program = new Command("leadbot")
    .description("Leadbot: lead scoring for B2B sales teams, in Slack")
    .showHelpAfterError();

  program
    .command("migrate")
    .description("apply database migrations (start-up does this too)")
    .action(() =>
      withServices(async () => {
        out("migrations applied");
      }),
    );

  const token = program.command("token").description("manage ingest API tokens");
  token
    .command("create <name>")
    .description("create a token; it is shown once")
    .option(
      "-s, --scope <scopes>",
      "comma-separated scopes: ingest (send data), read (GET routes), admin (everything)",
      parseScopes,
      [...DEFAULT_SCOPES],
    )
    .action((name: string, o: { scope: Scope[] }) =>
      withServices(async (s) => {
        const t = await s.tokens.create(name, "cli", o.scope);
        out(`token ${t.id} (${name}, scopes ${o.scope.join(",")}): ${t.token}`);
        out("Store it now: only its hash is kept.");
      }),
    );
  token
    .command("revoke <id>")
    .description("revoke a token by id")
    .action((id: string) =>
      withServices(async (s) => {
        await s.tokens.revoke(positiveInt(id));
        out(`token ${id} revoked`);
      }),
    );
  token
    .command("scopes <id>")
    .description("give a token other scopes; running instances enforce them at once")
    .requiredOption(
      "-s, --scope <scopes>",
      "comma-separated scopes: ingest (send data), read (GET routes), admin (everything)",
      parseScopes,
    )
    .action((id: string, o: { scope: Scope[] }) =>
      withServices(async (s) => {
        const t = await s.tokens.setScopes(positiveInt(id), o.scope);
        out(`token ${t.id} scopes ${t.before.join(",")} -> ${t.scopes.join(",")}`);
      }),
    );
  token
    .command("list")
    .description("list tokens")
    .action(() =>
      withServices(async (s) => {
        for (const t of await s.tokens.list()) {
          out(
            [
              t.id,
              t.name,
              `scopes ${t.scopes.join(",")}`,
              `created ${t.createdAt.toISOString()}`,
              `last used ${t.lastUsedAt ? t.lastUsedAt.toISOString() : "never"}`,
              ...(t.revokedAt ? [`revoked ${t.revokedAt.toISOString()}`] : []),
            ].join("\t"),
          );
        }
      }),
    );

  program
    .command("import <file>")
    .description(
      "import leads, events or outcomes from a CSV file, streaming, with a per-row error report",
    )
    .requiredOption("-k, --kind <kind>", "leads, events or outcomes", (v) => {
      if (v !== "leads" && v !== "events" && v !== "outcomes")
        throw new InvalidArgumentError("expects leads, events or outcomes");
      return v;
    })
    .option("-b, --batch <n>", "rows per batch", positiveInt, 1000)
    .option("-e, --errors <file>", "write rejected rows here (CSV)", "import-errors.csv")
    .action((file: string, o: { kind: CsvKind; batch: number; errors: string }) =>
      withServices(async (s) => {
        const progress = withProgress(statSync(file).size);
        let suppressed = 0;
        const result = await importCsv({
          input: file,
          kind: o.kind,
          batchSize: o.batch,
          onProgress: progress.onProgress,
          sink: async ({ items }) => {
            const r =
              o.kind === "leads"
                ? await s.upsertLeads(items, "import")
                : o.kind === "outcomes"
                  ? await s.leads.recordOutcomes(items, { by: "cli", source: "cli" })
                  : await s.recordEvents(items, "import");
            suppressed += "suppressed" in r ? r.suppressed : 0;
            return { errors: r.errors };
          },
        }).finally(() => progress.stop());
        out(`${result.rows} rows: ${result.valid} imported, ${result.invalid} rejected`);
        if (suppressed > 0) out(`${suppressed} of them name erased people and were dropped`);
        if (result.errors.length > 0) {
          await writeErrorReport(result.errors, o.errors);
          out(`rejected rows are listed in ${o.errors}`);
          if (result.errorsOmitted > 0) {
            out(
              `(the first ${result.errors.length} problems; ${result.errorsOmitted} more were counted, not listed)`,
            );
          }
          process.exitCode = 1;
        }
      }),
    );

  program
    .command("demo")
    .description("load the demo data set (realistic leads, events and outcomes)")
    .option("-n, --leads <n>", "number of leads", positiveInt, 2000)
    .option("-s, --seed <n>", "random seed", positiveInt, 42)
    .action((o: { leads: number; seed: number }) =>
      withServices(async (s) => {
        const r = await loadDemoData(s, { seed: o.seed, leads: o.leads });
        out(`loaded ${r.leads} leads, ${r.events} events, ${r.outcomes} outcomes`);
      }),
    );

  program
    .command("rescore")
    .description("rescore every lead against the active model")
    .action(() =>
      withServices(async (s) => {
        const resumed = await s.resumeRescores();
        for (const run of resumed.runs)
          out(`finished an interrupted ${run.cause} rescore: ${run.scored} scored`);
        const r = await s.rescoreAll("model");
        out(
          `model v${r.version}: ${r.scored} scored, ${r.changed} changed, ${r.transitions} stage changes`,
        );
      }),
    );

  const model = program.command("model").description("inspect the scoring model");
  registerModelCommands(model, withServices, out);
  model
    .command("validate <file>")
    .description("check a model file; errors name the line and field")
    .action(async (file: string) => {
      const m = loadModelFile(file);
      out(
        `${file}: valid (${m.fit.rules.length} fit rules, ${m.engagement.rules.length} engagement rules)`,
      );
    });
  model
    .command("show")
    .description("print the active model (or --version N) as YAML")
    .option("-v, --version <n>", "a model version", positiveInt)
    .action((o: { version?: number }) =>
      withServices(async (s) => {
        const version = o.version ?? (await s.models.active()).version;
        out(modelToYaml(await s.models.byVersion(version), `Scoring model v${version}`));
      }),
    );
  model
    .command("suggest")
    .description("learn a model from the recorded outcomes and propose it to the managers")
    .option("--dry-run", "fit and print the backtest and rules, propose nothing")
    .option("--by <who>", "who the proposal is by (a Slack user id)", CLI_ACTOR)
    .action((o: { dryRun?: boolean; by: string }) =>
      withServices(async (s) => {
        const r = await suggestLines(s, { dryRun: o.dryRun === true, by: o.by });
        for (const line of r.lines) out(line);
        if (!r.ok) process.exitCode = 2;
      }),
    );
  model
    .command("versions")
    .description("list model versions: who proposed and approved each, when, and its diff")
    .option("-n, --limit <n>", "versions to list", positiveInt, 20)
    .action((o: { limit: number }) =>
      withServices(async (s) => {
        for (const line of versionLines(await s.models.history(o.limit))) out(line);
      }),
    );
  model
    .command("propose <file>")
    .description("propose the model in a YAML file; managers approve it in Slack")
    .requiredOption("--by <user>", "the proposer's Slack user id")
    .option("--reason <text>", "why, shown to the approvers")
    .action((file: string, o: { by: string; reason?: string }) =>
      withServices(async (s) => {
        for (const line of await proposeModelFile(s, { file, by: o.by, reason: o.reason })) {
          out(line);
        }
      }),
    );
  model
    .command("export")
    .description("write the active model as a YAML file that propose accepts back")
    .option("-d, --dir <dir>", "directory to write to", ".")
    .action((o: { dir: string }) =>
      withServices(async (s) => {
        out(`wrote ${await exportActiveModel(s, o.dir)}`);
      }),
    );

  program
    .command("top [n]")
    .description("show the top leads, optionally filtered (the filters of GET /api/v1/leads)")
    .option("--stage <stage>", "lead, mql, sql or all", "all")
    .option("--q <text>", "name, email or company contains")
    .option("--grade <grades>", "comma-separated grades, e.g. A,B")
    .option("--level <levels>", "comma-separated levels, e.g. 1,2")
    .option("--owner <owner>", "a Slack user id, or nobody")
    .option("--min-score <n>", "score at least")
    .option("--max-score <n>", "score at most")
    .option("--active-within-days <n>", "last event within this many days")
    .option("--outcome <outcome>", "none, won, lost or not_a_fit")
    .action((n: string | undefined, o: TopCliOptions) =>
      withServices(async (s) => {
        const rows = await s.leads.search(topFilters(o), { limit: n ? positiveInt(n) : 10 });
        for (const r of rows) {
          // One lead per line, even when an imported title or company holds a line break.
          const text = `${r.title ?? ""} ${r.company ? `@ ${r.company}` : ""}`.replace(/\s+/g, " ");
          out(
            `${r.score.toFixed(1).padStart(6)}  ${r.grade}${r.level}  ${r.stage.padEnd(4)}  ${r.email ?? r.externalId}  ${text.trim()}`,
          );
        }
      }),
    );

  const routing = program.command("routing").description("lead routing rules");
  routing
    .command("apply <file>")
    .description("replace the routing rules with those in a YAML file (audited)")
    .option("--by <name>", "who the audit names", "cli")
    .action((file: string, o: { by: string }) =>
      withServices(async (s) => {
        const text = readFileSync(file, "utf8");
        const r = await s.routing.apply({ text, by: o.by, operator: true });
        out(`${r.rules.length} routing rule(s) applied (before: ${r.previous.length}).`);
        for (const [i, rule] of r.rules.entries()) out(`${i + 1}. ${rule.name}`);
      }),
    );
  routing
    .command("show")
    .description("print the routing rules as YAML, and this week's assignments")
    .action(() =>
      withServices(async (s) => {
        const o = await s.routing.overview();
        out(o.yaml.trimEnd());
        for (const sh of o.shares)
          out(`# ${sh.owner}: ${sh.rule} routed, ${sh.claim} claimed, ${sh.person} assigned`);
      }),
    );

  program
    .command("stats")
    .description("outcome metrics: ROC AUC, conversion by score band and grade, funnel")
    .option(
      "-p, --period <period>",
      PERIODS.join(", "),
      (v) => {
        if (!isPeriod(v)) throw new InvalidArgumentError(`expects ${PERIODS.join(", ")}`);
        return v;
      },
      DEFAULT_PERIOD,
    )
    .option("--json", "print the metrics as JSON")
    .action((o: { period: Period; json?: boolean }) =>
      withServices(async (s) => {
        const report = await s.stats(o.period);
        if (o.json) {
          const { scores: _scores, ...metrics } = report;
          out(JSON.stringify(metrics, null, 2));
        } else for (const line of statsLines(report)) out(line);
      }),
    );

  program
    .command("lead <key> [target]")
    .description(
      "show a lead (an email, id:N, ext:X, or a bare externalId or id); `lead erase <email|id:N|ext:X>` erases it, in Slack too, and suppresses the person; `lead unsuppress <email|ext:X>` lets them be recorded again",
    )
    .action((key: string, target: string | undefined) =>
      withServices(async (s) => {
        if (key === "erase" || key === "unsuppress") {
          if (!target) throw new InvalidArgumentError(`say who: lead ${key} <email|ext:X>`);
          if (key === "erase") {
            const r = await s.leads.erase(target, "cli");
            out(`lead ${r.id} erased; its email and externalId are suppressed`);
            if (r.messages > 0)
              out(`${r.messages} Slack messages are queued to be rewritten by the running app`);
          } else {
            await s.leads.unsuppress(target, "cli");
            out(`${target} is no longer suppressed`);
          }
          return;
        }
        if (target) throw new InvalidArgumentError(`"lead ${key}" takes one key`);
        out(JSON.stringify(await s.leads.get(key), null, 2));
      }),
    );

  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DomainError || err instanceof ModelFileError) {
      process.stderr.write(`leadbot: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`leadbot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
