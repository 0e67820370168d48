import { type CacheKeys, type Logger, readGeneration } from "@million-rps/shared";
import type { RedisClients } from "./redis-clients";

export type GenerationSource = "start" | "pubsub" | "poll" | "reconnect";

export interface GenerationWatchDeps {
  clients: RedisClients;
  keys: CacheKeys;
  pollMs: number;
  log: Logger;
  /**
   * Called with every generation number seen. Numbers read from the key are
   * authoritative (even lower ones: Redis was reset). "reconnect" means the number
   * was read after a connection came back: Redis may have restarted empty and
   * numbering restarted, so even an equal number may name other data.
   */
  onGeneration: (generation: number, via: GenerationSource) => void;
}

/**
 * Follows the published generation: pub/sub for speed, a re-read on every
 * (re)connect because messages sent while disconnected are lost, and a cheap poll
 * every `pollMs` so a silently broken subscription still bounds staleness.
 */
export class GenerationWatch {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** A connection came back: the next successful read resets L1 whatever number it finds. */
  private resetPending = false;

  constructor(private readonly deps: GenerationWatchDeps) {}

  async start(): Promise<void> {
    const { subscriber } = this.deps.clients;
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.deps.keys.invalidationChannel) return;
      const generation = Number(message);
      if (Number.isSafeInteger(generation) && generation >= 0) {
        this.deps.onGeneration(generation, "pubsub");
      }
    });
    for (const client of [subscriber, ...this.deps.clients.commands]) {
      let connectedBefore = client.status === "ready";
      client.on("ready", () => {
        if (connectedBefore) {
          this.resetPending = true;
          void this.poll("reconnect");
        }
        connectedBefore = true;
      });
    }
    subscriber.subscribe(this.deps.keys.invalidationChannel).catch((err: Error) => {
      this.deps.log.warn("could not subscribe to invalidations yet; polling meanwhile", { err });
    });
    this.timer = setInterval(() => void this.poll("poll"), this.deps.pollMs);
    this.timer.unref();
    await this.poll("start");
  }

  /** Re-reads the published generation; failures are expected while Redis is away. */
  async poll(via: GenerationSource): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const reset = this.resetPending;
      const generation = await readGeneration(this.deps.clients.next(), this.deps.keys);
      if (reset) this.resetPending = false;
      this.deps.onGeneration(generation, reset ? "reconnect" : via);
    } catch (err) {
      this.deps.log.debug("generation read failed", { err, via });
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
