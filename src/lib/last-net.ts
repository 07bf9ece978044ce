import type { Logger } from "./logger.js";

export interface LastNet {
  /** How many unexpected failures reached the process since it was installed. */
  caught(): number;
  uninstall(): void;
}

/**
 * The last net under every request, listener and job: an exception or rejection that nothing
 * else caught is logged and counted, and the process keeps serving. Every known path has its
 * own handler; this exists so an unknown one costs a log line, not every user's connection.
 */
export function installLastNet(logger: Logger, onCaught: () => void = () => {}): LastNet {
  let count = 0;
  const onException = (err: unknown, origin: string) => {
    count += 1;
    onCaught();
    logger.error({ err, origin }, "unexpected exception; the process keeps serving");
  };
  const onRejection = (reason: unknown) => {
    count += 1;
    onCaught();
    logger.error({ err: reason }, "unhandled promise rejection; the process keeps serving");
  };
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return {
    caught: () => count,
    uninstall() {
      process.off("uncaughtException", onException);
      process.off("unhandledRejection", onRejection);
    },
  };
}
