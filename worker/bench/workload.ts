import type { CommandEnvelope, TodoFields } from "@million-rps/shared";

/**
 * A reproducible stream of mixed commands from several users: creates, owner
 * updates and deletes, plus the awkward cases a real stream has: updates and
 * deletes from non-owners, commands for unknown todos, the same command sent
 * twice, and create-update-delete bursts on one todo that land in one batch.
 * Shared by the worker's integration tests and the write benchmark.
 */
export interface WorkloadOptions {
  count: number;
  seed?: number;
  users?: number;
  /** Shares of creates and updates; the rest are deletes. */
  createShare?: number;
  updateShare?: number;
  /** Share of updates/deletes sent by someone other than the owner. */
  nonOwnerShare?: number;
  /** Share of updates/deletes aimed at a todo that does not exist. */
  missingShare?: number;
  /** Share of commands that repeat an earlier one verbatim (a producer retry). */
  duplicateShare?: number;
  /** Share of positions that start a create-update-delete burst on one todo. */
  burstShare?: number;
  /** `issued_at` of the first command (ms since epoch); each next one is 1 ms later. */
  startMs?: number;
}

/** sfc32: small, fast, seedable; the stream must be the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

function uuidFrom(random: () => number): string {
  let hex = "";
  for (let i = 0; i < 4; i++)
    hex += Math.floor(random() * 2 ** 32)
      .toString(16)
      .padStart(8, "0");
  const v = `4${hex.slice(13, 16)}`;
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${v}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const WORDS = [
  "buy",
  "milk",
  "call",
  "mum",
  "fix",
  "bike",
  "write",
  "report",
  "ship",
  "v2",
  "ünïcödé",
  "🚀",
];

export function generateWorkload(options: WorkloadOptions): CommandEnvelope[] {
  const o = {
    seed: 1,
    users: 5,
    createShare: 0.5,
    updateShare: 0.35,
    nonOwnerShare: 0.1,
    missingShare: 0.03,
    duplicateShare: 0.01,
    burstShare: 0.01,
    startMs: Date.parse("2025-01-01T00:00:00.000Z"),
    ...options,
  };
  const random = seededRandom(o.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const users = Array.from({ length: o.users }, (_, i) => `user-${i + 1}`);
  const live: { id: string; owner: string }[] = [];
  const out: CommandEnvelope[] = [];

  const text = (words: number) => Array.from({ length: words }, () => pick(WORDS)).join(" ");
  const base = (todoId: string, actor: string) => ({
    v: 1 as const,
    command_id: uuidFrom(random),
    todo_id: todoId,
    actor,
    issued_at: new Date(o.startMs + out.length).toISOString(),
  });
  const otherThan = (owner: string) => pick(users.filter((u) => u !== owner));
  const fields = (): TodoFields => {
    const f: TodoFields = {};
    if (random() < 0.6) f.title = text(1 + Math.floor(random() * 6));
    if (random() < 0.4) f.description = text(Math.floor(random() * 20));
    if (random() < 0.5 || Object.keys(f).length === 0) f.completed = random() < 0.5;
    return f;
  };
  const create = (owner: string): string => {
    const id = uuidFrom(random);
    out.push({
      ...base(id, owner),
      type: "create",
      data: {
        title: text(2 + Math.floor(random() * 5)),
        description: text(Math.floor(random() * 12)),
        completed: false,
      },
    });
    return id;
  };
  // Update or delete an existing todo (by its owner or not), or one that does not exist.
  const target = () => {
    if (live.length === 0 || random() < o.missingShare) {
      return { index: -1, id: uuidFrom(random), actor: pick(users) };
    }
    const index = Math.floor(random() * live.length);
    const t = live[index] as { id: string; owner: string };
    return { index, id: t.id, actor: random() < o.nonOwnerShare ? otherThan(t.owner) : t.owner };
  };

  while (out.length < o.count) {
    const r = random();
    if (out.length > 0 && r < o.duplicateShare) {
      out.push(out[Math.max(0, out.length - 1 - Math.floor(random() * 500))] as CommandEnvelope);
    } else if (r < o.duplicateShare + o.burstShare) {
      const owner = pick(users);
      const id = create(owner);
      out.push({ ...base(id, owner), type: "update", data: fields() });
      out.push({ ...base(id, otherThan(owner)), type: "update", data: fields() });
      out.push({ ...base(id, otherThan(owner)), type: "delete", data: {} });
      if (random() < 0.5) out.push({ ...base(id, owner), type: "delete", data: {} });
      else live.push({ id, owner });
    } else if (live.length === 0 || random() < o.createShare) {
      const owner = pick(users);
      live.push({ id: create(owner), owner });
    } else if (random() < o.updateShare / (1 - o.createShare)) {
      const t = target();
      out.push({ ...base(t.id, t.actor), type: "update", data: fields() });
    } else {
      const t = target();
      out.push({ ...base(t.id, t.actor), type: "delete", data: {} });
      const owned = live[t.index];
      if (owned !== undefined && owned.owner === t.actor) {
        live[t.index] = live[live.length - 1] as { id: string; owner: string };
        live.pop();
      }
    }
  }
  return out.slice(0, o.count);
}
