import { openDatabase } from "../db/client.js";
import type { Logger } from "../lib/logger.js";
import { createServices, type Services } from "./index.js";
import { ensureModel } from "./models.js";

export interface OpenServicesOptions {
  /** Postgres URL, `memory://`, or undefined for PGlite under `dataDir`. */
  url?: string | undefined;
  dataDir?: string | undefined;
  logger: Logger;
  /** The model file loaded into a store that has none. */
  modelFile?: string | undefined;
  admins?: readonly string[] | undefined;
  suppressionKey?: string | undefined;
}

/** Opens the store (migrated, model loaded) for a short-lived tool such as the CLI. */
export async function openServices(
  opts: OpenServicesOptions,
): Promise<{ services: Services; close(): Promise<void> }> {
  const database = await openDatabase({
    url: opts.url,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    logger: opts.logger,
  });
  try {
    await ensureModel(database.db, opts.modelFile);
  } catch (err) {
    await database.close();
    throw err;
  }
  return {
    services: createServices({
      database,
      logger: opts.logger,
      admins: opts.admins,
      suppressionKey: opts.suppressionKey,
    }),
    close: () => database.close(),
  };
}
