import { createServer, type Server, type Socket } from "node:net";
import { isIssuedCommandId } from "@million-rps/shared";
import { DEV_COMMAND_ID_SECRET } from "@million-rps/shared/config";
import { afterEach, describe, expect, it, vi } from "vitest";
import { postmasterPid } from "../soak/faults";
import { CLOSED, HttpPool, type Outcome } from "../soak/http1";
import { parseSoakOptions } from "../soak/options";
import { PipelinedReader } from "../soak/pipelined-reader";
import { isOk, Recorder, type Sample, UNANSWERED } from "../soak/recorder";
import { summarize } from "../soak/report";
import { FAULT_KINDS, planSoak } from "../soak/schedule";
import { judgeTodo, type WriteVerdict } from "../soak/verify";
import { type Send, sendUntilAccepted, type WriteOp } from "../soak/write-attempts";
import { type TodoRecord, Writer } from "../soak/writer";

// The soak's verdict must be able to fail: its pure parts, on hand-made data.

function recorderWith(samples: Omit<Sample, "ms">[], windows: Recorder["windows"]): Recorder {
  const r = new Recorder();
  for (const s of samples) r.samples.push({ ...s, ms: 10 });
  r.windows.push(...windows);
  return r;
}

const CLEAN: WriteVerdict = {
  accepted: 10,
  lost: [],
  rejected: [],
  doubled: [],
  wrongState: [],
  abandoned: [],
  idMismatches: 0,
  drainMs: 100,
  staleReads: [],
};
const PACE = { reads: { started: 1, skipped: 0 }, writes: { started: 1, skipped: 0 } };

describe("planSoak", () => {
  it("has a Postgres SIGKILL among the faults", () => {
    expect(FAULT_KINDS).toContain("postgres");
    expect(planSoak(10).faults.filter((f) => f.kind === "postgres")).toHaveLength(2);
  });

  it("spreads every fault kind over the run, twice in 10 minutes, once in 1", () => {
    const ten = planSoak(10);
    expect(ten.faults.map((f) => f.kind)).toEqual([...FAULT_KINDS, ...FAULT_KINDS]);
    for (const f of ten.faults) {
      expect(f.at).toBeGreaterThanOrEqual(30_000);
      expect(f.at).toBeLessThan(ten.durationMs - ten.tailMs);
    }
    expect(ten.faults.find((f) => f.kind === "kafka")?.downMs).toBe(20_000);
    const one = planSoak(1);
    expect(one.faults.map((f) => f.kind)).toEqual([...FAULT_KINDS]);
    expect(Math.max(...one.faults.map((f) => f.downMs))).toBeLessThan(6_000);
  });
});

describe("Recorder: which non-2xx a fault window allows", () => {
  const windows: Recorder["windows"] = [
    { kind: "kafka", start: 1000, end: 2000, detail: "" },
    { kind: "read-worker", start: 3000, end: 4000, detail: "" },
    { kind: "redis", start: 5000, end: 6000, detail: "" },
  ];
  const r = recorderWith([], windows);
  const s = (
    t: number,
    route: Sample["route"],
    status: Sample["status"],
    retryAfter = false,
  ): Sample => ({
    t,
    route,
    status,
    retryAfter,
    ms: 10,
  });

  it("allows a write 503 with Retry-After while Kafka is down, and nothing else there", () => {
    expect(r.allowed(s(1500, "POST /todos", 503, true))).toBe(true);
    expect(r.allowed(s(1500, "POST /todos", 503, false))).toBe(false);
    expect(r.allowed(s(1500, "POST /todos", 500, true))).toBe(false);
    expect(r.allowed(s(1500, "GET /todos", 503, true))).toBe(false);
  });

  it("allows a reset read on the killed read worker, not a 5xx and not a write", () => {
    expect(r.allowed(s(3500, "GET /todos", "ECONNRESET"))).toBe(true);
    expect(r.allowed(s(3500, "GET /todos", 503))).toBe(false);
    expect(r.allowed(s(3500, "POST /todos", "ECONNRESET"))).toBe(false);
  });

  it("allows a write 503 with Retry-After while Redis is down (the key store), no read error; nothing outside windows; an overlapping exchange counts", () => {
    expect(r.allowed(s(5500, "POST /todos", 503, true))).toBe(true);
    expect(r.allowed(s(5500, "PATCH /todos/{id}", 503, false))).toBe(false);
    expect(r.allowed(s(5500, "GET /todos", 503, true))).toBe(false);
    expect(r.allowed(s(5500, "GET /commands/{id}", 503, true))).toBe(false);
    expect(r.allowed(s(5500, "POST /todos", 409, true))).toBe(false);
    expect(r.allowed(s(8000, "POST /todos", 503, true))).toBe(false);
    expect(r.phaseOf(s(8000, "GET /todos", 200))).toBe("steady");
    // Started just before Kafka went away, answered inside the window.
    expect(r.phaseOf({ ...s(995, "POST /todos", 503, true), ms: 1500 })).toBe("kafka");
  });
});

describe("Recorder: the Postgres window, 304s, 409s and pipelined closes", () => {
  const r = recorderWith(
    [],
    [
      { kind: "postgres", start: 1000, end: 2000, detail: "" },
      { kind: "worker", start: 3000, end: 4000, detail: "" },
      { kind: "read-worker", start: 5000, end: 6000, detail: "" },
    ],
  );
  const s = (t: number, route: Sample["route"], status: Sample["status"], retryAfter = false) =>
    ({ t, route, status, retryAfter, ms: 10 }) as Sample;

  it("allows a 503 with Retry-After in the Postgres window only for reads an outage can leave held nowhere", () => {
    for (const route of [
      "GET /todos (next page)",
      "GET /todos/{id}",
      "GET /commands/{id}",
    ] as const)
      expect(r.allowed(s(1500, route, 503, true))).toBe(true);
    expect(r.allowed(s(1500, "GET /todos/{id}", 503, false))).toBe(false);
    expect(r.allowed(s(1500, "GET /todos/{id}", 500, true))).toBe(false);
    expect(r.allowed(s(1500, "GET /todos", 503, true))).toBe(false);
    expect(r.allowed(s(1500, "GET /todos (pipelined)", 503, true))).toBe(false);
    expect(r.allowed(s(1500, "POST /todos", 503, true))).toBe(false);
    expect(r.allowed(s(1500, "GET /todos/{id}", "ECONNRESET"))).toBe(false);
  });

  it("allows nothing while the worker is down", () => {
    expect(r.allowed(s(3500, "POST /todos", 503, true))).toBe(false);
    expect(r.allowed(s(3500, "GET /commands/{id}", 503, true))).toBe(false);
  });

  it("counts a 304 as an answer only to a conditional request", () => {
    expect(isOk(s(0, "GET /todos (pipelined, If-None-Match)", 304))).toBe(true);
    expect(isOk(s(0, "GET /todos (pipelined)", 304))).toBe(false);
    expect(isOk(s(0, "GET /todos", 304))).toBe(false);
  });

  it("allows a 409 anywhere only after an attempt of the same write that got no answer", () => {
    expect(r.allowed({ ...s(9000, "POST /todos", 409, true), afterNoAnswer: true })).toBe(true);
    expect(r.allowed(s(9000, "POST /todos", 409, true))).toBe(false);
    expect(r.allowed({ ...s(9000, "POST /todos", 409, false), afterNoAnswer: true })).toBe(false);
  });

  it("allows a server-closed pipelined connection only in a read-worker window", () => {
    expect(r.closeAllowed({ t: 5500, unanswered: 3 })).toBe(true);
    expect(r.closeAllowed({ t: 1500, unanswered: 3 })).toBe(false);
    expect(r.closeAllowed({ t: 9000, unanswered: 0 })).toBe(false);
  });
});

describe("judgeTodo", () => {
  const todo = (over: Partial<TodoRecord>): TodoRecord => ({
    id: "t",
    owner: "o",
    title: "v3",
    updates: 2,
    deleted: false,
    busy: false,
    uncertain: false,
    ...over,
  });
  it("names a missing create, a lost update, a wrong title and a delete not applied", () => {
    expect(judgeTodo(todo({}), { title: "v3", version: 3 })).toBeNull();
    expect(judgeTodo(todo({}), undefined)).toMatch(/missing/);
    expect(judgeTodo(todo({}), { title: "v2", version: 2 })).toMatch(/update is missing/);
    expect(judgeTodo(todo({}), { title: "v2", version: 3 })).toMatch(/title/);
    expect(judgeTodo(todo({ deleted: true }), { title: "v3", version: 3 })).toMatch(/delete/);
    expect(judgeTodo(todo({ deleted: true }), undefined)).toBeNull();
  });
});

describe("summarize", () => {
  const ok = recorderWith([{ t: 10, route: "GET /todos", status: 200, retryAfter: false }], []);
  it("passes a clean run", () => {
    expect(summarize(ok, planSoak(1), PACE, CLEAN, []).pass).toBe(true);
  });

  it("fails on a lost or doubled write, a non-2xx outside a window, or a crash", () => {
    expect(summarize(ok, planSoak(1), PACE, { ...CLEAN, lost: ["c"] }, []).pass).toBe(false);
    const doubled = { ...CLEAN, doubled: [{ id: "t", expected: 2, actual: 3 }] };
    expect(summarize(ok, planSoak(1), PACE, doubled, []).pass).toBe(false);
    const bad = recorderWith([{ t: 10, route: "GET /todos", status: 503, retryAfter: true }], []);
    const summary = summarize(bad, planSoak(1), PACE, CLEAN, []);
    expect(summary.violations).toEqual({
      outsideWindows: 1,
      fiveXxOutsideWindows: 1,
      disallowedInWindows: 0,
      pipelinedClosesOutsideReadWorker: 0,
    });
    expect(summary.pass).toBe(false);
    const exits = [{ app: "worker", code: 1, atSec: 3 }];
    expect(summarize(ok, planSoak(1), PACE, CLEAN, exits).pass).toBe(false);
  });
});

describe("summarize: what else fails a run", () => {
  const windows: Recorder["windows"] = [{ kind: "postgres", start: 100, end: 200, detail: "" }];
  it("fails on a 422, on a 404 to a poll of an issued command id (even inside a window), and on a pipelined close outside a read-worker window", () => {
    const reused = recorderWith(
      [{ t: 150, route: "POST /todos", status: 422, retryAfter: false }],
      windows,
    );
    const a = summarize(reused, planSoak(1), PACE, CLEAN, []);
    expect(a.writes.keyReused).toBe(1);
    expect(a.pass).toBe(false);
    const poll404 = recorderWith(
      [{ t: 150, route: "GET /commands/{id}", status: 404, retryAfter: false }],
      windows,
    );
    const b = summarize(poll404, planSoak(1), PACE, CLEAN, []);
    expect(b.commandPolls404).toBe(1);
    expect(b.pass).toBe(false);
    const closed = recorderWith(
      [{ t: 10, route: "GET /todos", status: 200, retryAfter: false }],
      [],
    );
    closed.serverCloses.push({ t: 10, unanswered: 0 });
    const c = summarize(closed, planSoak(1), PACE, CLEAN, []);
    expect(c.violations.pipelinedClosesOutsideReadWorker).toBe(1);
    expect(c.pass).toBe(false);
  });

  it("passes the answers a window allows, and reports rates over all and steady time", () => {
    const rec = recorderWith(
      [
        { t: 50, route: "GET /todos", status: 200, retryAfter: false },
        { t: 150, route: "GET /todos/{id}", status: 503, retryAfter: true },
        { t: 250, route: "POST /todos", status: 202, retryAfter: false },
        { t: 300, route: "GET /todos (pipelined, If-None-Match)", status: 304, retryAfter: false },
      ],
      windows,
    );
    const sum = summarize(rec, planSoak(1), PACE, CLEAN, [], { trafficMs: 1000 });
    expect(sum.pass).toBe(true);
    expect(sum.rates.steadySec).toBe(0.9);
    expect(sum.rates.reads.all).toBe(3);
    expect(sum.rates.pipelinedReads.all).toBe(1);
    expect(sum.rates.writesAccepted.steady).toBeCloseTo(1.1, 1);
    expect(sum.non2xx).toEqual([
      { route: "GET /todos/{id}", phase: "postgres", status: "503", count: 1, allowed: true },
    ]);
  });
});

describe("summarize: a write answered what nothing allows is shown with every attempt", () => {
  it("names the op and its history", () => {
    const rec = recorderWith(
      [{ t: 100, route: "POST /todos", status: 409, retryAfter: true, op: 0 }],
      [],
    );
    const op: WriteOp = {
      kind: "create",
      route: "POST /todos",
      todoId: "t",
      commandId: "c-1",
      attempts: 2,
      index: 0,
      history: ["0.05s 503", "0.1s 409"],
      outcome: "accepted",
    };
    const sum = summarize(rec, planSoak(1), PACE, CLEAN, [], { ops: [op] });
    expect(sum.pass).toBe(false);
    expect(sum.writes.examples.join("\n")).toMatch(
      /command c-1\), attempts 0.05s 503, 0.1s 409; ended accepted/,
    );
  });
});

describe("summarize: the timeline", () => {
  it("buckets by when each exchange started; a few ms past the end join the last bucket", () => {
    const late = Array.from({ length: 30 }, (_, i) => ({
      t: 575_000 + i * 860, // the last one at 599_940 and one past the end below
      route: "GET /todos" as const,
      status: 200,
      retryAfter: false,
    }));
    const rec = recorderWith(
      [
        { t: 10, route: "POST /todos", status: 202, retryAfter: false },
        ...late,
        { t: 600_020, route: "GET /todos", status: 503, retryAfter: false },
      ],
      [],
    );
    const { timeline } = summarize(rec, planSoak(10), PACE, CLEAN, [], { trafficMs: 600_050 });
    expect(timeline).toHaveLength(20);
    expect(timeline[0]).toMatchObject({ fromSec: 0, writeAttemptsPerSec: 0, non2xx: 0 });
    expect(timeline.at(-1)).toMatchObject({ fromSec: 570, readsPerSec: 1, non2xx: 1 });
  });
});

describe("parseSoakOptions", () => {
  it("defaults to loads that matter, and keeps flags to change them", () => {
    const d = parseSoakOptions([]);
    expect(d.readRps).toBeGreaterThanOrEqual(2000);
    expect(d.writeRps).toBeGreaterThanOrEqual(250);
    expect(d.pipelinedRps).toBeGreaterThan(0);
    const o = parseSoakOptions(["--minutes", "1", "--read-rps", "300", "--pipelined-rps", "0"]);
    expect([o.minutes, o.readRps, o.pipelinedRps]).toEqual([1, 300, 0]);
    expect(() => parseSoakOptions(["--read-rps", "100", "--pipelined-rps", "200"])).toThrow(
      /part of/,
    );
  });
});

describe("postmasterPid", () => {
  it("reads the first line of postmaster.pid", () => {
    expect(postmasterPid("4242\n/var/tmp/pgdata\n1700000000\n5432\n")).toBe(4242);
    expect(postmasterPid("")).toBeNull();
  });
});

describe("writes: ids under the stack's secret, 409 and 422", () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const secret = new TextEncoder().encode("soak-test-fake-command-id-secret-0123456789");
  const answer = (status: number, body = "{}", extra = ""): Outcome => ({
    ok: true,
    res: {
      status,
      head: `HTTP/1.1 ${status} X\r\ncontent-length: ${body.length}${extra}`,
      body: Buffer.from(body),
      bodyLength: body.length,
      first: -1,
      last: -1,
    },
  });

  it("predicts command ids under the secret it is given, not the dev one", async () => {
    const rec = new Recorder();
    const writer: Writer = new Writer({
      send: async () => answer(202, JSON.stringify({ command_id: writer.ops.at(-1)?.commandId })),
      commandIdSecret: secret,
      tokens: new Map([["u", "t"]]),
      recorder: rec,
      deadlineMs: 1000,
    });
    const op = await writer.probe();
    expect(op?.outcome).toBe("accepted");
    expect(op?.idMismatch).toBeUndefined();
    expect(isIssuedCommandId(op?.commandId, secret)).toBe(true);
    expect(isIssuedCommandId(op?.commandId, new TextEncoder().encode(DEV_COMMAND_ID_SECRET))).toBe(
      false,
    );
  });

  function attempt(rec: Recorder, send: Send) {
    const op: WriteOp = {
      kind: "create",
      route: "POST /todos",
      todoId: "t",
      commandId: "c",
      attempts: 0,
      outcome: "pending",
    };
    const done = sendUntilAccepted(op, {
      send,
      path: "/todos",
      method: "POST",
      token: "t",
      idempotencyKey: "k",
      body: {},
      recorder: rec,
      deadline: Date.now() + 60_000,
    });
    return { op, done };
  }

  it("retries a 409 after its Retry-After with the same key; after a lost answer that 409 is allowed", async () => {
    vi.useFakeTimers();
    const answers: Outcome[] = [
      { ok: false, code: "ECONNRESET" },
      answer(409, "{}", "\r\nretry-after: 1"),
      answer(202, JSON.stringify({ command_id: "c" })),
    ];
    const keys: (string | undefined)[] = [];
    const rec = new Recorder();
    const { op, done } = attempt(rec, async (_m, _p, headers) => {
      keys.push(headers["idempotency-key"]);
      return answers.shift() as Outcome;
    });
    await vi.advanceTimersByTimeAsync(5_000);
    await done;
    expect(op.outcome).toBe("accepted");
    expect(op.attempts).toBe(3);
    expect(keys).toEqual(["k", "k", "k"]);
    expect(rec.samples.map((x) => [x.status, x.afterNoAnswer ?? false])).toEqual([
      ["ECONNRESET", false],
      [409, true],
      [202, true],
    ]);
    expect(rec.allowed(rec.samples[1] as Sample)).toBe(true);
  });

  it("refuses on a 422 (never retried)", async () => {
    const rec = new Recorder();
    const { op, done } = attempt(rec, async () => answer(422));
    await done;
    expect(op.outcome).toBe("refused");
    expect(op.attempts).toBe(1);
  });
});

describe("HttpPool", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
  });

  it("reuses keep-alive connections, keeps bodies when asked, and names why a request got no answer", async () => {
    let connections = 0;
    server = createServer((socket: Socket) => {
      connections++;
      let seen = "";
      socket.on("data", (d) => {
        seen += d.toString("latin1");
        while (seen.includes("\r\n\r\n")) {
          const [head = ""] = seen.split("\r\n\r\n", 1);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          seen = seen.slice(head.length + 4 + length);
          if (head.startsWith("GET /drop")) {
            socket.destroy();
            return;
          }
          const body = head.startsWith("POST") ? '{"command_id":"c"}' : "[1,2]";
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
          socket.write(body);
        }
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const pool = new HttpPool(`http://127.0.0.1:${port}`, 2, true);
    for (let i = 0; i < 5; i++) {
      const o = await pool.request("GET", "/todos");
      expect(o.ok && o.res.body?.toString()).toBe("[1,2]");
    }
    expect(connections).toBe(1);
    const posted = await pool.request(
      "POST",
      "/todos",
      { "content-type": "application/json" },
      "{}",
    );
    expect(posted.ok && posted.res.body?.toString()).toBe('{"command_id":"c"}');
    expect(await pool.request("GET", "/drop")).toEqual({ ok: false, code: CLOSED });
    const many = await Promise.all(Array.from({ length: 6 }, () => pool.request("GET", "/todos")));
    expect(many.every((o) => o.ok && o.res.status === 200)).toBe(true);
    pool.close();
    server.close();
    const refused = await new HttpPool(`http://127.0.0.1:${port}`, 1).request("GET", "/todos");
    expect(refused).toEqual({ ok: false, code: "ECONNREFUSED" });
  });
});

describe("PipelinedReader: framing every answer, counting what a closed connection left unanswered", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
  });

  it("frames pipelined answers split anywhere (a 304 without a body), then records a server close with its unanswered requests", async () => {
    const body = '[{"id":"x"}]';
    const ok = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nETag: "e1"\r\n\r\n${body}`;
    const gz = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc";
    const notModified = 'HTTP/1.1 304 Not Modified\r\nETag: "e1"\r\nContent-Length: 12\r\n\r\n';
    let bursts = 0;
    server = createServer((socket: Socket) => {
      let seen = "";
      socket.on("data", (d) => {
        seen += d.toString("latin1");
        const n = seen.split("\r\n\r\n").length - 1;
        if (n < 3) return;
        seen = "";
        bursts++;
        if (bursts === 3) {
          socket.destroy(); // the third burst is never answered
          return;
        }
        const answer = Buffer.from([ok, gz, bursts === 1 ? ok : notModified].join(""), "latin1");
        // Split at odd places: inside a head, inside a body.
        for (const [a, b] of [
          [0, 7],
          [7, 40],
          [40, answer.length],
        ] as const)
          socket.write(answer.subarray(a, b));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const rec = new Recorder();
    const reader = new PipelinedReader({
      readUrl: `http://127.0.0.1:${port}`,
      recorder: rec,
      connections: 1,
      depth: 3,
      perSecond: 30,
    });
    reader.start();
    await vi.waitFor(() => expect(reader.stats.closedByServer).toBe(1), { timeout: 3000 });
    await reader.stop(100);
    expect(reader.stats.framingErrors).toBe(0);
    expect(reader.stats.unanswered).toBe(3);
    const statuses = rec.samples.map((x) => `${x.route} ${x.status}`);
    expect(statuses.slice(0, 6)).toEqual([
      "GET /todos (pipelined) 200",
      "GET /todos (pipelined) 200",
      "GET /todos (pipelined) 200",
      "GET /todos (pipelined) 200",
      "GET /todos (pipelined) 200",
      "GET /todos (pipelined, If-None-Match) 304",
    ]);
    expect(statuses.slice(6, 9)).toEqual([
      `GET /todos (pipelined) ${UNANSWERED}`,
      `GET /todos (pipelined) ${UNANSWERED}`,
      `GET /todos (pipelined, If-None-Match) ${UNANSWERED}`,
    ]);
    expect(rec.serverCloses).toHaveLength(1);
    expect(rec.serverCloses[0]?.unanswered).toBe(3);
  });
});
