import { deriveId } from "@million-rps/shared";
import type { Recorder, Route } from "./recorder";
import { errorCode } from "./write-attempts";
import type { Writer } from "./writer";

export interface ReaderDeps {
  readUrl: string;
  recorder: Recorder;
  writer: Writer;
  /** How many todos were seeded (their ids are derived, see local/src/seed.ts). */
  seeded: number;
}

/**
 * Mixed reads: first pages at several limits, the next page through the Link
 * cursor, single todos by id, and polls of the commands the writer got accepted.
 */
export class Reader {
  inFlight = 0;
  /** The `Link` target of the latest `limit=100` first page. */
  private nextPage: string | null = null;

  constructor(private readonly deps: ReaderDeps) {}

  startOne(): void {
    const r = Math.random();
    if (r < 0.35) void this.get("GET /todos", "/todos?limit=100", true);
    else if (r < 0.5) void this.get("GET /todos", "/todos?limit=10");
    else if (r < 0.55) void this.get("GET /todos", "/todos?limit=1000");
    else if (r < 0.65 && this.nextPage !== null)
      void this.get("GET /todos (next page)", this.nextPage);
    else if (r < 0.82) {
      const i = 1 + Math.floor(Math.random() * this.deps.seeded);
      void this.get("GET /todos/{id}", `/todos/${deriveId("seed", String(i))}`);
    } else {
      const ops = this.deps.writer.ops;
      const recent = ops[Math.max(0, ops.length - 1 - Math.floor(Math.random() * 200))];
      if (recent?.outcome === "accepted")
        void this.get("GET /commands/{id}", `/commands/${recent.commandId}`);
      else void this.get("GET /todos", "/todos?limit=100", true);
    }
  }

  private async get(route: Route, path: string, remember = false): Promise<void> {
    this.inFlight++;
    const t = this.deps.recorder.now();
    try {
      const res = await fetch(`${this.deps.readUrl}${path}`, {
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      this.deps.recorder.record(route, t, res.status, res.headers.has("retry-after"));
      if (remember && res.status === 200) {
        this.nextPage = /^<([^>]+)>; rel="next"$/.exec(res.headers.get("link") ?? "")?.[1] ?? null;
      }
    } catch (err) {
      this.deps.recorder.record(route, t, errorCode(err));
    } finally {
      this.inFlight--;
    }
  }
}
