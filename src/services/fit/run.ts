import { parentPort, workerData } from "node:worker_threads";
import { suggestModel } from "../../core/learn/index.js";
import type { FitReply, FitRequest } from "./index.js";

/** The worker's whole job: one pure fit of the data it was started with, posted back. */
const request = workerData as FitRequest;
let reply: FitReply;
try {
  reply = { ok: true, suggestion: suggestModel(request.examples, request.model, request.options) };
} catch (err) {
  reply = {
    ok: false,
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  };
}
parentPort?.postMessage(reply);
