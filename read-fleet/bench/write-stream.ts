import { Agent, request } from "node:http";

/** What the stream has done so far; take two and subtract for a window. */
export interface WriteCounts {
  /** Writes started (a request sent). */
  started: number;
  /** Answered 202: durable in Kafka. */
  accepted: number;
  /** Answered anything else, by status code. */
  refused: Record<string, number>;
  /** No answer: connection error or timeout. */
  failed: number;
  /** Due but not started because `maxInFlight` writes were still waiting (the client's back-pressure). */
  skipped: number;
  /** Sum of the answered writes' latencies, ms (mean = latencySumMs / answered). */
  latencySumMs: number;
  answered: number;
}

export interface WriteWindow {
  seconds: number;
  started: number;
  accepted: number;
  acceptedPerSecond: number;
  refused: Record<string, number>;
  failed: number;
  skipped: number;
  meanLatencyMs: number;
}

export interface WriteStream {
  readonly rate: number;
  counts(): WriteCounts;
  /** Stops starting writes and waits (up to `graceMs`) for those in flight. */
  stop(graceMs?: number): Promise<WriteCounts>;
}

const zero = (): WriteCounts => ({
  started: 0,
  accepted: 0,
  refused: {},
  failed: 0,
  skipped: 0,
  latencySumMs: 0,
  answered: 0,
});

/** The writes between two snapshots taken `seconds` apart. */
export function writeWindow(a: WriteCounts, b: WriteCounts, seconds: number): WriteWindow {
  const refused: Record<string, number> = {};
  for (const [code, n] of Object.entries(b.refused)) {
    const d = n - (a.refused[code] ?? 0);
    if (d > 0) refused[code] = d;
  }
  const answered = b.answered - a.answered;
  return {
    seconds,
    started: b.started - a.started,
    accepted: b.accepted - a.accepted,
    acceptedPerSecond: (b.accepted - a.accepted) / seconds,
    refused,
    failed: b.failed - a.failed,
    skipped: b.skipped - a.skipped,
    meanLatencyMs: answered > 0 ? (b.latencySumMs - a.latencySumMs) / answered : Number.NaN,
  };
}

export const noWrites: WriteStream = {
  rate: 0,
  counts: zero,
  stop: async () => zero(),
};

/** A todo the stream may update, and the token of its owner (only the owner may). */
export interface UpdateTarget {
  id: string;
  token: string;
}

/**
 * A steady stream of writes through the write API at `rate` per second, open loop
 * (a slow server makes writes pile up to `maxInFlight`, then be skipped and
 * counted, never slows the schedule), over keep-alive connections: `POST /todos`
 * (creates), or with `updates`, `PATCH /todos/:id` of one of them at random (a new
 * title: the item and the page holding it change).
 */
export function startWriteStream(o: {
  writeUrl: string;
  token: string;
  rate: number;
  maxInFlight: number;
  /** A label in the todo titles, to tell the bench's writes apart. */
  tag: string;
  updates?: readonly UpdateTarget[];
}): WriteStream {
  if (o.rate <= 0) return noWrites;
  const url = new URL(o.writeUrl);
  // One socket per write in flight: the agent must never be what limits the rate.
  const agent = new Agent({ keepAlive: true, maxSockets: o.maxInFlight });
  const c = zero();
  let inFlight = 0;
  let serial = 0;
  let idle: (() => void) | null = null;
  const targets = o.updates ?? [];
  const one = () => {
    const body = `{"title":"bench ${o.tag} ${++serial}"}`;
    const target =
      targets.length === 0 ? undefined : targets[Math.floor(Math.random() * targets.length)];
    const t0 = performance.now();
    inFlight++;
    c.started++;
    let settled = false;
    const done = (status: number | null) => {
      if (settled) return;
      settled = true;
      inFlight--;
      if (status === null) c.failed++;
      else {
        c.answered++;
        c.latencySumMs += performance.now() - t0;
        if (status === 202) c.accepted++;
        else c.refused[String(status)] = (c.refused[String(status)] ?? 0) + 1;
      }
      if (inFlight === 0) idle?.();
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: target === undefined ? "/todos" : `/todos/${target.id}`,
        method: target === undefined ? "POST" : "PATCH",
        agent,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${target?.token ?? o.token}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0));
        res.on("error", () => done(null));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.on("error", () => done(null));
    req.end(body);
  };
  const t0 = performance.now();
  let due = 0;
  const timer = setInterval(() => {
    const now = Math.floor(((performance.now() - t0) * o.rate) / 1000);
    for (; due < now; due++) {
      if (inFlight < o.maxInFlight) one();
      else c.skipped++;
    }
  }, 5);
  return {
    rate: o.rate,
    counts: () => ({ ...c, refused: { ...c.refused } }),
    async stop(graceMs = 10_000) {
      clearInterval(timer);
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, graceMs);
          idle = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      agent.destroy();
      return { ...c, refused: { ...c.refused } };
    },
  };
}
