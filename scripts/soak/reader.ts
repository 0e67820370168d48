import { header } from "@million-rps/local";
import { deriveId } from "@million-rps/shared";
import type { Outcome } from "./http1";
import type { Recorder, Route } from "./recorder";
import type { Writer } from "./writer";

/** Sends one GET; resolves with the response or why there is none (HttpPool.request). */
export type Get = (path: string) => Promise<Outcome>;

export interface ReaderDeps {
  get: Get;
  recorder: Recorder;
  writer: Writer;
  /** How many todos were seeded (their ids are derived, see shared/src/seed.ts). */
  seeded: number;
}

/**
 * Mixed reads, one at a time per keep-alive connection: first pages at several
 * limits, the next page through the Link cursor, single todos by id, and polls of
 * the commands the writer got accepted (ids the write API issued: never a 404).
 */
export class Reader {
  inFlight = 0;
  /** The `Link` target of the latest `limit=100` first page. */
  private nextPage: string | null = null;

  private readonly seededIds: string[];

  constructor(private readonly deps: ReaderDeps) {
    this.seededIds = Array.from({ length: deps.seeded }, (_, i) => deriveId("seed", String(i + 1)));
  }

  startOne(): void {
    const r = Math.random();
    if (r < 0.35) void this.get("GET /todos", "/todos?limit=100", true);
    else if (r < 0.5) void this.get("GET /todos", "/todos?limit=10");
    else if (r < 0.55) void this.get("GET /todos", "/todos?limit=1000");
    else if (r < 0.65 && this.nextPage !== null)
      void this.get("GET /todos (next page)", this.nextPage);
    else if (r < 0.82) {
      const id = this.seededIds[Math.floor(Math.random() * this.seededIds.length)];
      void this.get("GET /todos/{id}", `/todos/${id}`);
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
      const o = await this.deps.get(path);
      if (!o.ok) {
        this.deps.recorder.record(route, t, o.code);
        return;
      }
      const { res } = o;
      this.deps.recorder.record(route, t, res.status, header(res.head, "retry-after") !== null);
      if (remember && res.status === 200) {
        this.nextPage = /^<([^>]+)>; rel="next"$/.exec(header(res.head, "link") ?? "")?.[1] ?? null;
      }
    } finally {
      this.inFlight--;
    }
  }
}
