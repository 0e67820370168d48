import type * as UwsModule from "uWebSockets.js";
import { createRequire } from "node:module";

export type Uws = typeof UwsModule;

/**
 * The uWS.js builds the read fleet can run, newest first. Upstream publishes only on
 * GitHub; these are npm republishes of it:
 * - `current`: uWS.js 20.57 (@btc-vision/uwebsockets.js), binaries for Node 20, 22,
 *   24 and 25 that need glibc 2.38 or later (Debian 13, Ubuntu 24.04: the images).
 * - `legacy`: uWS.js 20.30 (@trufflesuite/uws-js-unofficial), Node 16 to 20 on glibc
 *   2.36 (Debian 12): the only one that loads there, so the native path on Debian 12
 *   runs Node 20. Its loader swaps in a slow JavaScript server when its binary does
 *   not load; that is refused below.
 */
const UWS_BUILDS = {
  current: { module: "uwebsockets-current", label: "uWS.js 20.57 (@btc-vision/uwebsockets.js)" },
  legacy: { module: "uWebSockets.js", label: "uWS.js 20.30 (@trufflesuite/uws-js-unofficial)" },
} as const;
export type UwsBuildName = keyof typeof UWS_BUILDS;
/** `auto`: the current build where it loads, else the legacy one. */
export type UwsChoice = UwsBuildName | "auto";

/** No native uWS build loads here: the read fleet refuses to serve at a fraction of its speed. */
export class UwsFallbackError extends Error {
  override name = "UwsFallbackError";
  constructor(attempts: readonly string[]) {
    super(
      `no native uWebSockets.js build loads on Node ${process.versions.node} ` +
        `(ABI ${process.versions.modules}, ${process.platform}-${process.arch}, glibc ${glibc() ?? "unknown"}); ` +
        "the read fleet refuses its JavaScript fallback. Use the container image (Node 24, " +
        "Debian 13), or Node 20 on Debian 12.\n" +
        attempts.map((a) => `  ${a}`).join("\n"),
    );
  }
}

/** True when `App` is the C++ binding: native functions print as `[native code]`. */
export function isNativeUws(uws: Pick<Uws, "App">): boolean {
  return Function.prototype.toString.call(uws.App).includes("[native code]");
}

/** glibc version of this process, when Node reports one (it does on glibc Linux). */
export function glibc(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
    ?.header;
  return header?.glibcVersionRuntime;
}

export interface LoadedUws {
  readonly uws: Uws;
  readonly build: UwsBuildName;
  /** What runs, for the start-up log line. */
  readonly description: string;
}

let loaded: LoadedUws | undefined;

/**
 * Loads the newest uWS build that runs natively here, and refuses the JavaScript
 * fallback (the legacy package only prints a warning when its binary fails).
 */
export function loadUws(choice: UwsChoice = "auto"): LoadedUws {
  if (loaded !== undefined && (choice === "auto" || loaded.build === choice)) return loaded;
  const require = createRequire(import.meta.url);
  const order: UwsBuildName[] = choice === "auto" ? ["current", "legacy"] : [choice];
  const attempts: string[] = [];
  for (const build of order) {
    const { module, label } = UWS_BUILDS[build];
    try {
      const uws = require(module) as Uws;
      if (!isNativeUws(uws)) {
        attempts.push(`${label}: loaded its JavaScript fallback`);
        continue;
      }
      const description = `${label} on Node ${process.versions.node}, glibc ${glibc() ?? "unknown"}`;
      loaded = { uws, build, description };
      return loaded;
    } catch (err) {
      attempts.push(`${label}: ${(err as Error).message.split("\n").slice(-1)[0]}`);
    }
  }
  throw new UwsFallbackError(attempts);
}

/** The loaded build's module (servers call this; the first call chooses the build). */
export function loadNativeUws(choice: UwsChoice = "auto"): Uws {
  return loadUws(choice).uws;
}

/** Node lines past their end of life, with the date, for the warning at start. */
const NODE_END_OF_LIFE: Readonly<Record<number, string>> = {
  16: "2023-09-11",
  18: "2025-04-30",
  20: "2026-04-30",
};

/** A sentence for the log when this Node is past its end of life, else null. */
export function endOfLifeNotice(build: UwsBuildName): string | null {
  const major = Number(process.versions.node.split(".")[0]);
  const eol = NODE_END_OF_LIFE[major];
  if (eol === undefined) return null;
  const why =
    build === "legacy"
      ? "because the only uWS build that loads on glibc 2.36 (Debian 12) is uWS.js 20.30, which supports Node 20 at most"
      : "although a newer Node would load the same uWS build";
  return (
    `Node ${major} reached its end of life on ${eol}; the read fleet runs it ${why}. ` +
    "Use the container image (Node 24 LTS on Debian 13) or a host with glibc 2.38+ and Node 24."
  );
}
