/**
 * Merges the Prometheus text of several worker processes into one exposition:
 * each family once (HELP/TYPE), every sample labelled with its worker. Pure.
 */
interface Family {
  header: string[];
  samples: string[];
}

function withLabel(sample: string, label: string): string {
  const brace = sample.indexOf("{");
  const space = sample.indexOf(" ");
  if (brace >= 0 && (space < 0 || brace < space)) {
    const closing = sample.indexOf("}", brace);
    const inner = sample.slice(brace + 1, closing);
    return `${sample.slice(0, brace)}{${label}${inner === "" ? "" : `,${inner}`}${sample.slice(closing)}`;
  }
  return space < 0 ? sample : `${sample.slice(0, space)}{${label}}${sample.slice(space)}`;
}

export function mergeExpositions(
  parts: readonly { worker: string; text: string }[],
  extra = "",
): string {
  const families = new Map<string, Family>();
  for (const { worker, text } of parts) {
    let current: Family | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta !== null) {
        const name = meta[2] as string;
        let family = families.get(name);
        if (family === undefined) {
          family = { header: [], samples: [] };
          families.set(name, family);
        }
        if (family.header.length < 2 && !family.header.includes(line)) family.header.push(line);
        current = family;
        continue;
      }
      if (line.startsWith("#")) continue;
      if (current === undefined) {
        current = { header: [], samples: [] };
        families.set(`#orphan${families.size}`, current);
      }
      current.samples.push(withLabel(line, `worker="${worker}"`));
    }
  }
  const out: string[] = [];
  for (const family of families.values()) out.push(...family.header, ...family.samples);
  return `${out.join("\n")}\n${extra}`;
}
