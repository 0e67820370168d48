import { commandIds } from "@million-rps/write-lambdas";
import type { Recorder, Route } from "./recorder";

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

export interface WriteOp {
  kind: "create" | "update" | "delete";
  route: Route;
  todoId: string;
  /** Derived from the Idempotency-Key exactly as the write API derives it. */
  commandId: string;
  attempts: number;
  outcome: "pending" | "accepted" | "abandoned" | "refused";
  /** The last status seen (for refused and abandoned writes). */
  lastStatus?: number | string;
  /** The 202 named another command id than the one the key derives (idempotency broken). */
  idMismatch?: string;
}

export interface WriterDeps {
  writeUrl: string;
  tokens: ReadonlyMap<string, string>;
  recorder: Recorder;
  /** A write that has not been accepted after this long is abandoned. */
  deadlineMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]): T | undefined =>
  items[Math.floor(Math.random() * items.length)];

function errorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return err instanceof Error ? err.name : "ERROR";
}

/**
 * Writes at the pace it is asked to, each with an Idempotency-Key, retrying a 503
 * or a network error with the SAME key (honouring Retry-After) until a 202 or the deadline.
 */
export class Writer {
  readonly todos = new Map<string, TodoRecord>();
  readonly ops: WriteOp[] = [];
  inFlight = 0;
  private serial = 0;

  constructor(private readonly deps: WriterDeps) {}

  /** Starts one write: a create, or an update or delete of one of our idle todos. */
  startOne(): void {
    const idle = [...this.todos.values()].filter((t) => !t.busy && !t.deleted && !t.uncertain);
    const r = Math.random();
    const target = pick(idle);
    if (target === undefined || idle.length < 30 || r < 0.45) void this.create();
    else if (r < 0.9) void this.update(target);
    else void this.remove(target);
  }

  private op(kind: WriteOp["kind"], route: Route, actor: string, method: string, todoId?: string) {
    const key = `soak-${process.pid}-${++this.serial}`;
    const path = todoId === undefined ? "/todos" : `/todos/${todoId}`;
    const ids = commandIds({ actor, method, path, idempotencyKey: key, ...(todoId && { todoId }) });
    const op: WriteOp = {
      kind,
      route,
      todoId: ids.todoId,
      commandId: ids.commandId,
      attempts: 0,
      outcome: "pending",
    };
    this.ops.push(op);
    return { op, key, path };
  }

  /** One create, awaited: true once accepted (retrying 503s like any write). */
  probe(): Promise<boolean> {
    return this.create();
  }

  private async create(): Promise<boolean> {
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
    if (!accepted && op.outcome === "refused") this.todos.delete(todo.id);
    return accepted;
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
    if (await this.send(op, todo, "DELETE", path, key)) todo.deleted = true;
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
    const { recorder } = this.deps;
    const deadline = Date.now() + this.deps.deadlineMs;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.deps.tokens.get(todo.owner)}`,
      "idempotency-key": key,
      ...(body !== undefined && { "content-type": "application/json" }),
    };
    try {
      while (Date.now() < deadline) {
        op.attempts++;
        const t = recorder.now();
        let wait = 1000;
        try {
          const res = await fetch(`${this.deps.writeUrl}${path}`, {
            method,
            headers,
            ...(body !== undefined && { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          const retryAfter = res.headers.get("retry-after");
          recorder.record(op.route, t, res.status, retryAfter !== null);
          op.lastStatus = res.status;
          if (res.status === 202) {
            const got = (JSON.parse(text) as { command_id?: string }).command_id;
            if (got !== op.commandId) op.idMismatch = got;
            op.outcome = "accepted";
            return true;
          }
          if (res.status !== 503) {
            op.outcome = "refused";
            return false;
          }
          wait = Math.min(5, Math.max(1, Number(retryAfter) || 1)) * 1000;
        } catch (err) {
          op.lastStatus = errorCode(err);
          recorder.record(op.route, t, op.lastStatus);
        }
        await sleep(wait);
      }
      op.outcome = "abandoned";
      todo.uncertain = true;
      return false;
    } finally {
      todo.busy = false;
      this.inFlight--;
    }
  }
}
