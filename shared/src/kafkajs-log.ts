import { type logCreator, logLevel } from "kafkajs";
import type { Logger } from "./log";

/**
 * Routes kafkajs's own logs into our JSON lines instead of its console format.
 * Entries `demote` picks (noise we expect, e.g. a discarded producer's last
 * retries failing) are logged at debug whatever their level.
 */
export function kafkajsLogCreator(
  log: Logger,
  demote: (message: string) => boolean = () => false,
): logCreator {
  return function createKafkajsLogger() {
    return function writeKafkajsEntry({ namespace, level, log: entry }) {
      // kafkajs repeats the stack of every connection error; the message and broker say enough.
      const { message, timestamp: _timestamp, stack: _stack, ...extra } = entry;
      const fields = { namespace, ...extra };
      if (demote(message)) log.debug(message, fields);
      else if (level === logLevel.ERROR) log.error(message, fields);
      else if (level === logLevel.WARN) log.warn(message, fields);
      else if (level === logLevel.INFO) log.info(message, fields);
      else log.debug(message, fields);
    };
  };
}
