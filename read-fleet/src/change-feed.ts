import {
  type CacheKeys,
  type ChangeSet,
  decodeChangeSet,
  readChangeLog,
  readFeedState,
} from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { RedisClients } from "./redis-clients";

/** Change sets kept in memory, to check a fill against what arrived while it ran. */
const RECENT = 512;

export interface ChangeFeedDeps {
  clients: RedisClients;
  keys: CacheKeys;
  pollMs: number;
  log: Logger;
  /** Each change set, in publication order, exactly once. */
  onChangeSet: (cs: ChangeSet) => void;
  /** Each push of hot pages (arrives just before the change set it belongs to). */
  onHotEntries: (message: Buffer) => void;
  /**
   * Change sets were missed and the log no longer has them (`lostData`: Redis lost
   * everything and numbering restarted). Whatever this process holds may be stale.
   */
  onLost: (generation: number, lostData: boolean) => void;
}

/** Where the feed stood when a fill started: `since` answers what came after it. */
export interface FeedMark {
  readonly era: number;
  readonly seq: number;
}

/**
 * Follows the published change sets: pub/sub for speed; a poll every `pollMs`
 * (and on every reconnect) that compares the published sequence number with the
 * last one applied. A gap is filled from the change log; only when the log no
 * longer reaches back (or Redis lost its data: a new epoch) is everything held
 * treated as stale. The sequence number never moves back except on that reset.
 */
export class ChangeFeed {
  private epoch: string | null = null;
  private applied = 0;
  private known = 0;
  /** Bumped when numbering can no longer be compared (a new epoch, a lost stretch). */
  private era = 0;
  private readonly recent: ChangeSet[] = [];
  private catchingUp: Promise<void> | null = null;
  private held: ChangeSet[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly deps: ChangeFeedDeps) {}

  /** Last change set applied. */
  get seq(): number {
    return this.applied;
  }

  /**
   * A generation whose commits are all done: the stamp for data read while Redis
   * cannot be asked (the counter only counts commits already made).
   */
  get generation(): number {
    return this.known;
  }

  mark(): FeedMark {
    return { era: this.era, seq: this.applied };
  }

  /** Change sets applied after `mark`, oldest first; null when they can no longer be listed. */
  since(mark: FeedMark): readonly ChangeSet[] | null {
    if (mark.era !== this.era) return null;
    if (mark.seq === this.applied) return [];
    const first = this.recent[0];
    if (first === undefined || first.seq > mark.seq + 1) return null;
    return this.recent.filter((cs) => cs.seq > mark.seq);
  }

  async start(): Promise<void> {
    const { subscriber } = this.deps.clients;
    const { invalidationChannel, hotEntriesChannel } = this.deps.keys;
    const changes = Buffer.from(invalidationChannel);
    const hot = Buffer.from(hotEntriesChannel);
    // Buffers, not strings: a push of hot pages is binary and never worth a string copy.
    subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      if (channel.equals(hot)) {
        this.deps.onHotEntries(message);
      } else if (channel.equals(changes)) {
        const cs = decodeChangeSet(message.toString("utf8"));
        if (cs === null) this.deps.log.warn("ignoring a change message this version cannot read");
        else this.receive(cs);
      }
    });
    for (const client of [subscriber, ...this.deps.clients.commands]) {
      let connectedBefore = client.status === "ready";
      client.on("ready", () => {
        // Messages sent while we were away are lost: the poll finds the gap.
        if (connectedBefore) void this.poll();
        connectedBefore = true;
      });
    }
    subscriber.subscribe(invalidationChannel, hotEntriesChannel).catch((err: Error) => {
      this.deps.log.warn("could not subscribe to invalidations yet; polling meanwhile", { err });
    });
    this.timer = setInterval(() => void this.poll(), this.deps.pollMs);
    this.timer.unref();
    await this.poll();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Compares the published sequence with ours; fills a gap. Failures are expected while Redis is away. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const state = await readFeedState(this.deps.clients.next(), this.deps.keys);
      this.known = Math.max(this.known, state.generation);
      if (this.epoch === null) {
        // First contact: nothing is held yet, so nothing before this point matters.
        this.epoch = state.epoch;
        this.applied = state.seq;
      } else if (state.epoch !== this.epoch) {
        this.newEpoch(state.epoch, state.seq, state.generation);
      } else if (state.seq > this.applied) {
        await this.catchUp();
      }
    } catch (err) {
      this.deps.log.debug("change feed poll failed", { err });
    } finally {
      this.polling = false;
    }
  }

  private receive(cs: ChangeSet): void {
    if (this.epoch === null) return; // before the first poll: the poll's gap check covers it
    if (cs.epoch !== this.epoch) {
      this.newEpoch(cs.epoch, cs.seq - 1, cs.generation);
    }
    if (this.catchingUp !== null) {
      this.held.push(cs);
      return;
    }
    if (cs.seq <= this.applied) return; // already applied (read from the log, or a replay)
    if (cs.seq === this.applied + 1) this.apply(cs);
    else {
      this.held.push(cs);
      void this.catchUp();
    }
  }

  private apply(cs: ChangeSet): void {
    this.applied = cs.seq;
    this.known = Math.max(this.known, cs.generation);
    this.recent.push(cs);
    if (this.recent.length > RECENT) this.recent.shift();
    this.deps.onChangeSet(cs);
  }

  /** Reads what we missed from the log; held messages are applied after it, in order. */
  private catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      try {
        const logged = await readChangeLog(this.deps.clients.next(), this.deps.keys, this.applied);
        const sets = logged.map(decodeChangeSet).filter((cs): cs is ChangeSet => cs !== null);
        const first = sets[0];
        if (first === undefined || first.seq !== this.applied + 1) {
          // The log does not reach back to what we missed.
          const last = sets.at(-1)?.seq ?? this.applied;
          this.lost(Math.max(last, ...this.held.map((cs) => cs.seq)), false);
        }
        for (const cs of sets)
          if (cs.seq === this.applied + 1 && cs.epoch === this.epoch) this.apply(cs);
      } catch (err) {
        this.deps.log.debug("change log read failed; the next poll tries again", { err });
      } finally {
        this.catchingUp = null;
        const held = this.held.sort((a, b) => a.seq - b.seq);
        this.held = [];
        for (const cs of held) this.receive(cs);
      }
    })();
    return this.catchingUp;
  }

  private newEpoch(epoch: string, seq: number, generation: number): void {
    this.deps.log.warn("Redis lost its data (new epoch): refreshing everything held", {
      from: this.epoch,
      to: epoch,
    });
    this.epoch = epoch;
    this.known = generation;
    this.lost(seq, true);
  }

  private lost(seq: number, lostData: boolean): void {
    this.era++;
    this.recent.length = 0;
    this.applied = seq;
    this.deps.onLost(this.known, lostData);
  }
}
