/**
 * Read fleet entry point: `npx tsx read-fleet/src/main.ts` (or the bundled main.mjs).
 * Without READ_FLEET_ROLE it is the supervisor and forks itself once per uWS process
 * (READ_PROCESSES).
 */
import { ConfigError, deprecatedVariables, loadDotEnv } from "@million-rps/shared/config";
import { createLogger } from "@million-rps/shared/pino-logger";
import { loadConfig, readFleetSpec } from "./config";
import { PROCESS_INDEX_VARIABLE, ROLE_VARIABLE } from "./ipc";
import { endOfLifeNotice, loadUws, UwsFallbackError } from "./native-uws";
import { runSupervisor } from "./supervisor";
import { runUwsProcess } from "./uws-process";

loadDotEnv();
const role = process.env[ROLE_VARIABLE] === "process" ? "process" : "supervisor";
// At info until LOG_LEVEL is read (a bad one is a ConfigError, printed below).
let log = createLogger("read-fleet", { level: "info", base: { role } });

try {
  const config = loadConfig();
  log = createLogger("read-fleet", { level: config.logLevel, base: { role } });
  const { build, description } = loadUws(config.uwsBuild);
  if (role === "supervisor") {
    for (const warning of deprecatedVariables(readFleetSpec)) log.warn(warning);
    log.info("uWS build", { uws: description });
    const notice = endOfLifeNotice(build);
    if (notice !== null) log.warn(notice, { node: process.versions.node });
  }
  if (role === "process") {
    await runUwsProcess(config, process.env[PROCESS_INDEX_VARIABLE] ?? "0");
  } else {
    const entry = process.argv[1];
    if (entry === undefined) throw new Error("cannot tell which script to fork for the processes");
    await runSupervisor(config, log, { entry, args: process.argv.slice(2) });
  }
} catch (err) {
  if (err instanceof ConfigError || err instanceof UwsFallbackError) {
    console.error(err.message);
  } else {
    log.error("read fleet failed to start", { err });
  }
  process.exit(1);
}
