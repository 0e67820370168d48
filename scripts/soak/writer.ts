import { commandIds } from "@million-rps/write-lambdas";
import type { Recorder, Route } from "./recorder";
import { type Send, sendUntilAccepted, type WriteOp } from "./write-attempts";

/** A todo the soak created, and what it must look like once every accepted write is applied. */
export interface TodoRecord {
  id: string;
  owner: string;
  title: string;
  /** Updates answered 202: the worker bumps `todos.version` once per applied update. */
  updates: number;
  deleted: boolean;
  /** A write is in flight: no other write to this todo starts (so 202 order = Kafka order). */
  busy: boolean;
  /** A write to it was abandoned (never answered 202): its outcome is unknown, so it is not judged. */
  uncertain: boolean;
}

export interface WriterDeps {
  /** Sends one request to the write API (HttpPool.request, bodies kept). */
  send: Send;
  /** The stack's COMMAND_ID_SECRET: command ids are predicted under it (never the dev default). */
  commandIdSecret: Uint8Array;
  tokens: ReadonlyMap<string, string>;
  recorder: Recorder;
  /** A write that has not been accepted after this long is abandoned. */
  deadlineMs: number;
}

const pick = <T>(items: readonly T[]): T | undefined =>
  items[Math.floor(Math.random() * items.length)];

/**
 * Writes at the pace it is asked to, each with an Idempotency-Key, retrying a 503
 * or a network error with the SAME key (honouring Retry-After) until a 202 or the deadline.
 */
export class Writer {
  readonly todos = new Map<string, TodoRecord>();
  readonly ops: WriteOp[] = [];
  inFlight = 0;
  private serial = 0;
  /** Todos that exist (accepted create, no accepted delete) and are not uncertain: what updates and deletes pick from. */
  private readonly live: TodoRecord[] = [];
  private readonly liveIndex = new Map<string, number>();

  constructor(private readonly deps: WriterDeps) {}

  /** Starts one write: a create, or an update or delete of one of our idle todos. */
  startOne(): void {
    const r = Math.random();
    const target = this.live.length < 30 || r < 0.45 ? undefined : this.pickIdle();
    if (target === undefined) void this.create();
    else if (r < 0.9) void this.update(target);
    else void this.remove(target);
  }

  /** A live todo with no write in flight, picked at random (a few tries; none found: a create instead). */
  private pickIdle(): TodoRecord | undefined {
    for (let i = 0; i < 8; i++) {
      const t = pick(this.live);
      if (t !== undefined && !t.busy) return t;
    }
    return undefined;
  }

  private addLive(todo: TodoRecord): void {
    this.liveIndex.set(todo.id, this.live.length);
    this.live.push(todo);
  }

  private dropLive(todo: TodoRecord): void {
    const i = this.liveIndex.get(todo.id);
    if (i === undefined) return;
    const last = this.live.pop() as TodoRecord;
    if (last !== todo) {
      this.live[i] = last;
      this.liveIndex.set(last.id, i);
    }
    this.liveIndex.delete(todo.id);
  }

  private op(kind: WriteOp["kind"], route: Route, actor: string, method: string, todoId?: string) {
    const key = `soak-${process.pid}-${++this.serial}`;
    const path = todoId === undefined ? "/todos" : `/todos/${todoId}`;
    const ids = commandIds(
      { actor, method, path, idempotencyKey: key, ...(todoId && { todoId }) },
      this.deps.commandIdSecret,
    );
    const op: WriteOp = {
      kind,
      route,
      todoId: ids.todoId,
      commandId: ids.commandId,
      attempts: 0,
      index: this.ops.length,
      history: [],
      outcome: "pending",
    };
    this.ops.push(op);
    return { op, key, path };
  }

  /** One create, awaited: its op once accepted (retrying 503s like any write), else null. */
  async probe(): Promise<WriteOp | null> {
    const op = await this.create();
    return op.outcome === "accepted" ? op : null;
  }

  private async create(): Promise<WriteOp> {
    const owner = pick([...this.deps.tokens.keys()]) ?? "soak-0";
    const { op, key, path } = this.op("create", "POST /todos", owner, "POST");
    const title = `soak todo ${this.serial}`;
    const todo: TodoRecord = {
      id: op.todoId,
      owner,
      title,
      updates: 0,
      deleted: false,
      busy: true,
      uncertain: false,
    };
    this.todos.set(todo.id, todo);
    const accepted = await this.send(op, todo, "POST", path, key, {
      title,
      description: "written by the soak",
    });
    // Refused: it never existed. Abandoned: it may exist; `uncertain` keeps it out of the verdict.
    if (accepted) this.addLive(todo);
    else if (op.outcome === "refused") this.todos.delete(todo.id);
    return op;
  }

  private async update(todo: TodoRecord): Promise<void> {
    todo.busy = true;
    const { op, key, path } = this.op("update", "PATCH /todos/{id}", todo.owner, "PATCH", todo.id);
    const title = `soak todo ${todo.id.slice(0, 8)} v${todo.updates + 2}`;
    if (await this.send(op, todo, "PATCH", path, key, { title, completed: Math.random() < 0.5 })) {
      todo.updates++;
      todo.title = title;
    }
  }

  private async remove(todo: TodoRecord): Promise<void> {
    todo.busy = true;
    const { op, key, path } = this.op(
      "delete",
      "DELETE /todos/{id}",
      todo.owner,
      "DELETE",
      todo.id,
    );
    if (await this.send(op, todo, "DELETE", path, key)) {
      todo.deleted = true;
      this.dropLive(todo);
    }
  }

  /** True once accepted (202); false when refused or abandoned. */
  private async send(
    op: WriteOp,
    todo: TodoRecord,
    method: string,
    path: string,
    key: string,
    body?: unknown,
  ): Promise<boolean> {
    this.inFlight++;
    try {
      await sendUntilAccepted(op, {
        send: this.deps.send,
        path,
        method,
        token: this.deps.tokens.get(todo.owner) ?? "",
        idempotencyKey: key,
        body,
        recorder: this.deps.recorder,
        deadline: Date.now() + this.deps.deadlineMs,
      });
      if (op.outcome === "abandoned") {
        todo.uncertain = true;
        this.dropLive(todo);
      }
      return op.outcome === "accepted";
    } finally {
      todo.busy = false;
      this.inFlight--;
    }
  }
}
