/**
 * Turns every way a user stops `npm start` into two calls: the first SIGINT,
 * SIGTERM or SIGHUP (or the launcher vanishing) requests a stop; a later one
 * hurries it.
 *
 * One Ctrl-C can arrive more than once: the terminal signals the whole process
 * group, and npm and tsx pass the signal on as well. Signals within `sameWithinMs`
 * of the first count as that first one, so a single Ctrl-C never hurries a stop.
 */
export function onStopRequest(
  handlers: { stop(reason: string): void; hurry(): void },
  {
    sameWithinMs = 1_000,
    signals: source = process,
  }: {
    sameWithinMs?: number;
    /** Where the signals come from: this process, or a stand-in in tests. */
    signals?: Pick<NodeJS.EventEmitter, "on" | "off">;
  } = {},
): () => void {
  let requestedAt: number | undefined;
  const request = (reason: string) => {
    if (requestedAt === undefined) {
      requestedAt = Date.now();
      handlers.stop(reason);
    } else if (Date.now() - requestedAt > sameWithinMs) {
      handlers.hurry();
    }
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const listeners = signals.map((signal) => {
    const listener = () => request(signal);
    source.on(signal, listener);
    return [signal, listener] as const;
  });
  // If whatever launched us dies without passing a signal on (a shell between npm
  // and this process, a closed terminal), we are re-parented: stop what we started.
  const launcher = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(watch);
    request(`the process that started this one (pid ${launcher}) is gone`);
  }, 1_000);
  watch.unref();
  return function stopListening() {
    for (const [signal, listener] of listeners) source.off(signal, listener);
    clearInterval(watch);
  };
}
