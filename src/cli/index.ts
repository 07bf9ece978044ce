import { statSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadEnv } from "../config/env.js";
import { loadDemoData } from "../demo/index.js";
import { importCsv, writeErrorReport } from "../ingest/csv/index.js";
import { createLogger } from "../lib/logger.js";
import { DomainError } from "../services/errors.js";
import type { Services } from "../services/index.js";
import { loadModelFile } from "../services/models.js";
import { openServices } from "../services/open.js";
import { DEFAULT_SCOPES, isScope, SCOPES, type Scope } from "../services/tokens.js";
import { withProgress } from "./import-progress.js";

const out = (line: string) => process.stdout.write(`${line}\n`);

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
    .description("import leads or events from a CSV file, streaming, with a per-row error report")
    .requiredOption("-k, --kind <kind>", "leads or events", (v) => {
      if (v !== "leads" && v !== "events")
        throw new InvalidArgumentError("expects leads or events");
      return v;
    })
    .option("-b, --batch <n>", "rows per batch", positiveInt, 1000)
    .option("-e, --errors <file>", "write rejected rows here (CSV)", "import-errors.csv")
    .action((file: string, o: { kind: "leads" | "events"; batch: number; errors: string }) =>
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
                : await s.recordEvents(items, "import");
            suppressed += r.suppressed;
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
        const r = await s.rescoreAll("model");
        out(
          `model v${r.version}: ${r.scored} scored, ${r.changed} changed, ${r.transitions} stage changes`,
        );
      }),
    );

  const model = program.command("model").description("inspect the scoring model");
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
    .description("print the active model as JSON")
    .action(() =>
      withServices(async (s) => {
        const a = await s.models.active();
        out(JSON.stringify({ version: a.version, ...a.model }, null, 2));
      }),
    );
  model
    .command("versions")
    .description("list model versions")
    .action(() =>
      withServices(async (s) => {
        for (const v of await s.models.versions()) {
          out(`v${v.version}\t${v.createdAt.toISOString()}\t${v.createdBy}\t${v.note ?? ""}`);
        }
      }),
    );

  program
    .command("top [n]")
    .description("show the top leads")
    .option("--stage <stage>", "lead, mql, sql or all", "all")
    .action((n: string | undefined, o: { stage: "lead" | "mql" | "sql" | "all" }) =>
      withServices(async (s) => {
        const rows = await s.leads.top({ limit: n ? positiveInt(n) : 10, stage: o.stage });
        for (const r of rows) {
          // One lead per line, even when an imported title or company holds a line break.
          const text = `${r.title ?? ""} ${r.company ? `@ ${r.company}` : ""}`.replace(/\s+/g, " ");
          out(
            `${r.score.toFixed(1).padStart(6)}  ${r.grade}${r.level}  ${r.stage.padEnd(4)}  ${r.email ?? r.externalId}  ${text.trim()}`,
          );
        }
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
    if (err instanceof ConfigError || err instanceof DomainError) {
      process.stderr.write(`leadbot: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`leadbot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
