import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type CacheKeys, LuaScript } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { Redis } from "ioredis";
import type { AppliedChange } from "./apply";
import { backoffMs, pause } from "./backoff";
import type { ChangePublisher } from "./change-publisher";
import { decodeHandedChanges, encodeHandedChanges, mergeChanges } from "./handed-changes";
import type { WorkerMetrics } from "./metrics";

export interface ChangeRelayOptions {
  redis: Redis;
  keys: CacheKeys;
  /** What publishes, while this worker holds the lease. */
  publisher: ChangePublisher;
  /** Least time between the starts of two publications, fleet-wide. */
  minIntervalMs: number;
  /** How long the lease outlives its holder: a dead publisher's successor starts within it. */
  leaseMs: number;
  /** Most unpublished changes the hand-off stream holds (default HANDOFF_MAX_HELD). */
  maxHeldChanges?: number;
  log: Logger;
  metrics: WorkerMetrics;
}

/** Most changes in one hand-off (a stream entry); a larger commit is handed off in parts. */
const HANDOFF_MAX_CHANGES = 10_000;
/**
 * Most changes the hand-off stream holds unpublished (~60 bytes each: ~60 MB). While
 * no worker can publish, the workers keep committing and handing off; past this the
 * stream is replaced by one reset (readers refresh all they hold), which stands for
 * every change it dropped, so Redis memory stays bounded and nothing stays stale.
 */
const HANDOFF_MAX_HELD = 1_000_000;
/** Most stream entries one publication takes; the rest go in the next. */
const ENTRIES_PER_PUBLICATION = 1_000;
/**
 * A publication still running after this many lease lengths is taken for hung (a
 * query that never returns): its worker gives the lease up, and takes it again only
 * once that publication ended, so a hung publisher cannot hold the fleet's changes.
 */
const HUNG_AFTER_LEASES = 5;

/** Extends the lease if this worker holds it: 1, else 0. */
const RENEW = new LuaScript(
  "renew-publisher-lease",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
     return redis.call('PEXPIRE', KEYS[1], ARGV[2])
   end
   return 0`,
  1,
);

/**
 * Hands changes to the publisher: adds an entry and counts its changes (ARGV[3]) as
 * held. Past the bound (ARGV[4]) it empties the stream (its last id stays, so new
 * entries still sort after the cursor) and adds one reset in place of all it held.
 * Returns the entry's id and 1 when it overflowed, else 0.
 */
const HANDOFF = new LuaScript(
  "handoff-changes",
  `local held = redis.call('INCRBY', KEYS[2], ARGV[3])
   if held > tonumber(ARGV[4]) then
     redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
     redis.call('SET', KEYS[2], 0)
     return {redis.call('XADD', KEYS[1], '*', 'c', '[]', 'r', '1'), 1}
   end
   return {redis.call('XADD', KEYS[1], '*', 'c', ARGV[1], 'r', ARGV[2]), 0}`,
  2,
);

/** Drops the lease if this worker holds it (a stopping publisher's successor need not wait). */
const RELEASE = new LuaScript(
  "release-publisher-lease",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
   return 0`,
  1,
);

/**
 * Records that everything up to entry ARGV[2] is published, and trims what is before
 * it, only while the lease is still this worker's and only forward (a publisher that
 * lost its lease mid-publication has published nothing its successor will not again).
 * Takes the ARGV[3] changes it published off the held count, which is exact again
 * whenever nothing is left unpublished (only the cursor's entry stays), whatever an
 * overflow meanwhile did to it.
 */
const PUBLISHED = new LuaScript(
  "handoff-published",
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
   local cur = redis.call('GET', KEYS[2])
   if cur then
     local a, b = string.match(cur, '^(%d+)-(%d+)$')
     local c, d = string.match(ARGV[2], '^(%d+)-(%d+)$')
     a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
     if c < a or (c == a and d <= b) then return 0 end
   end
   redis.call('SET', KEYS[2], ARGV[2])
   redis.call('XTRIM', KEYS[3], 'MINID', ARGV[2])
   if redis.call('XLEN', KEYS[3]) <= 1 or redis.call('DECRBY', KEYS[4], ARGV[3]) < 0 then
     redis.call('SET', KEYS[4], 0)
   end
   return 1`,
  4,
);

type StreamEntry = [id: string, fields: string[]];
type XReadReply = [stream: string, entries: StreamEntry[]][] | null;

/** Whether stream id `a` is at or after `b` (`<ms>-<seq>`). */
export function streamIdAtOrAfter(a: string, b: string): boolean {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am > bm || (am === bm && as >= bs);
}

/**
 * One publisher for the whole fleet, whatever the number of workers, so the change
 * sets (and the pushed pages) every read process receives stay at most one per
 * `minIntervalMs`: with uncoordinated workers they were one per interval per worker.
 *
 * Every worker hands what its commits changed to a Redis stream (`changeHandoff`), in
 * commit order, retrying while Redis is down (the changes wait in memory). The worker
 * holding the lease (`publisherLease`, renewed every quarter of `leaseMs`) reads the
 * stream from the last entry published (`handoffCursor`), merges the entries into one
 * change set and publishes it (change-publisher.ts), then moves the cursor and trims
 * the stream. Entries it read but did not publish stay after the cursor, so if it
 * dies, the worker that takes the lease next (within `leaseMs`) publishes them: a
 * publication may be repeated, never lost. A change set read twice only refreshes
 * twice.
 */
export class ChangeRelay {
  private readonly me = randomUUID();
  private outbox: AppliedChange[] = [];
  private outboxReset = false;
  private sending: Promise<void> | null = null;
  private holding = false;
  private publishing: Promise<void> | null = null;
  /** The last entry this worker handed off, and the last it published (stream ids). */
  private lastHanded: string | null = null;
  private lastPublished: string | null = null;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** When the publication in progress started (performance.now()), or null. */
  private publicationStarted: number | null = null;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** A second connection for the blocking read, made while holding the lease. */
  private blocker: Redis | null = null;
  private readonly stopping = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly o: ChangeRelayOptions) {}

  /** Takes the lease when it is free, and keeps trying every quarter of `leaseMs`. */
  start(): void {
    const tick = () => {
      this.checkLease().catch((err: unknown) => {
        this.o.log.warn("publisher lease check failed", { err });
      });
    };
    tick();
    this.leaseTimer = setInterval(tick, Math.max(50, Math.floor(this.o.leaseMs / 4)));
    this.leaseTimer.unref();
  }

  /** After a commit: hand what it changed to the publisher; returns at once. */
  publish(changes: readonly AppliedChange[]): void {
    if (changes.length === 0) return;
    for (const c of changes) this.outbox.push(c);
    this.send();
  }

  /**
   * Everything readers hold may be stale (this worker just joined its group as its
   * leader, and a member that died may have committed a batch it never handed off):
   * the next publication is a reset, so readers refresh all they hold.
   */
  reset(): void {
    this.outboxReset = true;
    this.send();
  }

  /** Whether this worker publishes for the fleet now. */
  get isPublisher(): boolean {
    return this.holding;
  }

  /**
   * Resolves true once everything this worker committed is handed off and, while it
   * publishes, published too; false after `timeoutMs`.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.settled) return true;
      const left = deadline - performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.settled;
  }

  /**
   * Stops handing off and publishing, and gives the lease up so another worker
   * publishes at once. Waits for a publication in progress at most one lease length.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.leaseTimer);
    this.blocker?.disconnect();
    const ended = Promise.allSettled([this.sending, this.publishing]);
    await Promise.race([ended, sleep(this.o.leaseMs, undefined, { ref: false })]);
    await this.giveUp();
  }

  private async giveUp(): Promise<void> {
    if (!this.holding) return;
    this.holding = false;
    this.o.metrics.publisher.set(0);
    this.blocker?.disconnect();
    await RELEASE.run(this.o.redis, [this.o.keys.publisherLease, this.me]).catch(() => {});
  }

  private get settled(): boolean {
    if (this.sending !== null || this.outbox.length > 0 || this.outboxReset) return false;
    if (!this.holding || this.lastHanded === null) return true;
    return this.lastPublished !== null && streamIdAtOrAfter(this.lastPublished, this.lastHanded);
  }

  private wakeWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private send(): void {
    if (this.sending !== null || this.stopping.signal.aborted) return;
    this.sending = this.sendLoop().finally(() => {
      this.sending = null;
      this.wakeWaiters();
    });
  }

  private async sendLoop(): Promise<void> {
    const { redis, keys } = this.o;
    for (let failures = 0; this.outbox.length > 0 || this.outboxReset; ) {
      if (this.stopping.signal.aborted) return;
      const changes = this.outbox.splice(0, HANDOFF_MAX_CHANGES);
      const reset = this.outboxReset;
      this.outboxReset = false;
      try {
        const maxHeld = this.o.maxHeldChanges ?? HANDOFF_MAX_HELD;
        const [id, overflowed] = (await HANDOFF.run(redis, [
          keys.changeHandoff,
          keys.handoffHeld,
          encodeHandedChanges(changes),
          reset ? "1" : "0",
          changes.length,
          maxHeld,
        ])) as [string, number];
        this.lastHanded = id;
        failures = 0;
        if (overflowed === 1) {
          this.o.metrics.handoffOverflows.inc();
          this.o.log.warn(
            "the hand-off stream held more unpublished changes than its bound; replaced by a reset",
            { max_held_changes: maxHeld },
          );
        }
        // The publisher may be this worker, blocked on the other connection: it sees
        // the entry there, or here if it is between reads.
        this.wakePublishing();
      } catch (err) {
        // Back in front, in order: what came meanwhile was committed after them.
        this.outbox.unshift(...changes);
        this.outboxReset ||= reset;
        failures++;
        this.o.metrics.generationFailures.inc();
        this.o.log.warn("could not hand changes to the publisher; retrying", { err, failures });
        await pause(backoffMs(failures), this.stopping.signal);
      }
    }
  }

  private async checkLease(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const { redis, keys, leaseMs } = this.o;
    const runningMs =
      this.publicationStarted === null ? 0 : performance.now() - this.publicationStarted;
    if (runningMs > HUNG_AFTER_LEASES * leaseMs) {
      // Neither renewed nor taken while it hangs; when it ends, its cursor move is refused.
      if (this.holding) {
        this.o.log.error("a change publication seems hung; giving the publisher lease up", {
          running_ms: Math.round(runningMs),
        });
        await this.giveUp();
      }
      return;
    }
    let holds: boolean;
    try {
      holds = this.holding
        ? Number(await RENEW.run(redis, [keys.publisherLease, this.me, leaseMs])) === 1
        : (await redis.set(keys.publisherLease, this.me, "PX", leaseMs, "NX")) === "OK";
    } catch (err) {
      // Not renewed: another worker may take it once it runs out; stop before that.
      holds = false;
      if (this.holding) this.o.log.warn("could not renew the publisher lease", { err });
    }
    if (this.stopping.signal.aborted) return;
    if (holds !== this.holding) {
      this.holding = holds;
      this.o.metrics.publisher.set(holds ? 1 : 0);
      this.o.log.info(holds ? "publishing changes for the fleet" : "no longer the publisher");
    }
    if (holds) this.wakePublishing();
    else this.blocker?.disconnect();
  }

  private wakePublishing(): void {
    if (!this.holding || this.publishing !== null || this.stopping.signal.aborted) return;
    this.publishing = this.publishLoop().finally(() => {
      this.publishing = null;
      this.wakeWaiters();
    });
  }

  private async publishLoop(): Promise<void> {
    const { redis, keys } = this.o;
    for (let failures = 0; this.holding && !this.stopping.signal.aborted; ) {
      try {
        const cursor = (await redis.get(keys.handoffCursor)) ?? "0-0";
        const entries = (await redis.xrange(
          keys.changeHandoff,
          `(${cursor}`,
          "+",
          "COUNT",
          ENTRIES_PER_PUBLICATION,
        )) as StreamEntry[];
        if (entries.length === 0) {
          this.lastPublished = cursor;
          this.wakeWaiters();
          if (!(await this.waitForEntries(cursor))) return;
          continue;
        }
        // Hand-offs that arrive meanwhile ride along: one publication per interval, fleet-wide.
        const wait = this.lastStart + this.o.minIntervalMs - performance.now();
        if (wait > 0) {
          await pause(wait, this.stopping.signal);
          continue; // read again: more may have come
        }
        this.lastStart = performance.now();
        await this.publishEntries(entries);
        failures = 0;
      } catch (err) {
        failures++;
        this.o.metrics.generationFailures.inc();
        this.o.log.warn("cache change publication failed; retrying", { err, failures });
        await pause(backoffMs(failures), this.stopping.signal);
      }
    }
  }

  private async publishEntries(entries: readonly StreamEntry[]): Promise<void> {
    const pending = new Map<string, AppliedChange>();
    let reset = false;
    let handedCount = 0;
    for (const [id, fields] of entries) {
      const handed = decodeHandedChanges(fields);
      if (handed === null) {
        this.o.log.warn("skipping a hand-off this worker cannot read", { entry: id });
        continue;
      }
      mergeChanges(pending, handed.changes);
      handedCount += handed.changes.length;
      reset ||= handed.reset;
    }
    this.publicationStarted = performance.now();
    try {
      await this.o.publisher.publishOnce([...pending.values()], reset);
    } finally {
      this.publicationStarted = null;
    }
    const last = (entries.at(-1) as StreamEntry)[0];
    const { keys } = this.o;
    await PUBLISHED.run(this.o.redis, [
      keys.publisherLease,
      keys.handoffCursor,
      keys.changeHandoff,
      keys.handoffHeld,
      this.me,
      last,
      handedCount,
    ]);
    this.lastPublished = last;
  }

  /** Blocks until an entry after `cursor` arrives (true) or the lease is lost or stopping (false). */
  private async waitForEntries(cursor: string): Promise<boolean> {
    const blockMs = Math.max(100, Math.floor(this.o.leaseMs / 2));
    while (this.holding && !this.stopping.signal.aborted) {
      if (this.blocker === null) {
        this.blocker = this.o.redis.duplicate();
        this.blocker.on("error", () => {}); // reported through the commands connection
      }
      try {
        const reply = (await this.blocker.xread(
          "COUNT",
          1,
          "BLOCK",
          blockMs,
          "STREAMS",
          this.o.keys.changeHandoff,
          cursor,
        )) as XReadReply;
        if (reply !== null && reply.length > 0) return true;
      } catch {
        // Disconnected (lease lost, stopping) or Redis down: a new connection next time.
        this.blocker?.disconnect();
        this.blocker = null;
        await pause(100, this.stopping.signal);
        return this.holding && !this.stopping.signal.aborted;
      }
    }
    return false;
  }
}
