/**
 * A progress bar on stderr for long work: redrawn in place on a terminal, a line
 * every 10% otherwise (CI logs stay short).
 */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

export function progressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const started = Date.now();
  const width = 30;
  let lastDecile = -1;
  const render = (done: number) => {
    const ratio = total === 0 ? 1 : Math.min(1, done / total);
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const bar = "#".repeat(Math.round(ratio * width)).padEnd(width, ".");
    return `${label} [${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${done}/${total} ${rate}/s`;
  };
  return {
    update(done) {
      if (stream.isTTY) {
        stream.write(`\r${render(done)}`);
        return;
      }
      const decile = Math.floor((total === 0 ? 1 : done / total) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${render(done)}\n`);
      }
    },
    finish() {
      if (stream.isTTY) stream.write(`\r${render(total)}\n`);
      else if (lastDecile < 10) stream.write(`${render(total)}\n`);
    },
  };
}
