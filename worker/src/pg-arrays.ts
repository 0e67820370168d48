/**
 * Postgres array literals (`{...}`), built in one pass. node-pg's generic encoder
 * runs two regex replacements on every element; with a dozen columns of a few
 * thousand values per batch that was a visible share of the worker's CPU.
 */

/** Values that need no quoting: canonical UUIDs (validated on intake), booleans, integers. */
export function plainArray(values: readonly (string | number | boolean)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    out += typeof v === "boolean" ? (v ? "t" : "f") : String(v);
  }
  return `${out}}`;
}

/** Any text: every element quoted, backslashes and quotes escaped, null as NULL. */
export function textArray(values: readonly (string | null)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    if (v === null || v === undefined) out += "NULL";
    else if (v.includes('"') || v.includes("\\")) out += `"${v.replace(/["\\]/g, "\\$&")}"`;
    else out += `"${v}"`;
  }
  return `${out}}`;
}
