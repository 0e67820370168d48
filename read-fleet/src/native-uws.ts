import type * as UwsModule from "uWebSockets.js";
import { createRequire } from "node:module";

export type Uws = typeof UwsModule;

/** The uWS package could not load its native addon and swapped in its slow JavaScript server. */
export class UwsFallbackError extends Error {
  override name = "UwsFallbackError";
  constructor() {
    super(
      "uWebSockets.js loaded its JavaScript fallback instead of the native addon (wrong Node ABI, " +
        "platform or glibc?). The read fleet refuses to serve at a fraction of its speed; " +
        `run it on Node 20 on linux-x64/arm64 (this is Node ${process.versions.node}, ` +
        `ABI ${process.versions.modules}, ${process.platform}-${process.arch}).`,
    );
  }
}

/** True when `App` is the C++ binding: native functions print as `[native code]`. */
export function isNativeUws(uws: Pick<Uws, "App">): boolean {
  return Function.prototype.toString.call(uws.App).includes("[native code]");
}

let loaded: Uws | undefined;

/**
 * Loads uWebSockets.js and refuses the JavaScript fallback. The package's loader
 * only prints a warning when the `.node` binary fails to load, so we check the
 * result ourselves.
 */
export function loadNativeUws(): Uws {
  if (loaded !== undefined) return loaded;
  const uws = createRequire(import.meta.url)("uWebSockets.js") as Uws;
  if (!isNativeUws(uws)) throw new UwsFallbackError();
  loaded = uws;
  return uws;
}
