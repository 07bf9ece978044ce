// The fit runs in a worker thread. The app is TypeScript run by tsx without a build step, and a
// worker may start without the parent's loader (under a test runner, say): tsx (a runtime
// dependency) is registered here so the worker loads the same sources either way.
import { register } from "tsx/esm/api";

register();
await import("./run.ts");
