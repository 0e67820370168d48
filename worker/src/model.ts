import type { CommandEnvelope, CommandStatus, RejectReason, Todo } from "@million-rps/shared";

/**
 * The pure model of the command stream: what one command does to one todo.
 * The worker folds each batch through it; tests fold a whole stream through it
 * to compute the table the database must end with.
 */

/**
 * A todo as the worker holds it: the todo every surface shows, with the timestamps as
 * Postgres accepts them (a create's `issued_at` becomes `created_at`), and its version.
 */
export interface TodoRow extends Todo {
  /** 1 on create, +1 per applied update. */
  version: number;
}

/** What applying one command produced: the status and reason the `commands` table records. */
export type CommandResult =
  | { status: Extract<CommandStatus, "applied">; reason: null }
  | { status: Extract<CommandStatus, "rejected">; reason: RejectReason };

const APPLIED: CommandResult = { status: "applied", reason: null };
const reject = (reason: RejectReason): CommandResult => ({ status: "rejected", reason });

/**
 * One command against the current state of its todo (null: no such todo).
 * Rejections return the very same state object, so "unchanged" is an identity check.
 */
export function applyCommand(
  current: TodoRow | null,
  command: CommandEnvelope,
): { next: TodoRow | null; result: CommandResult } {
  switch (command.type) {
    case "create": {
      if (current !== null) {
        // Ids are minted by the write API, so this is the same todo created again: a no-op
        // for its owner, and never a way to take over someone else's todo.
        return current.user_id === command.actor
          ? { next: current, result: APPLIED }
          : { next: current, result: reject("forbidden") };
      }
      const { title, description, completed } = command.data;
      return {
        next: {
          id: command.todo_id,
          title,
          description,
          completed,
          user_id: command.actor,
          created_at: command.issued_at,
          updated_at: command.issued_at,
          version: 1,
        },
        result: APPLIED,
      };
    }
    case "update": {
      if (current === null) return { next: null, result: reject("not_found") };
      if (current.user_id !== command.actor) return { next: current, result: reject("forbidden") };
      // Validation keeps only the fields that were sent, so `??` is a field-wise merge.
      const { title, description, completed } = command.data;
      return {
        next: {
          id: current.id,
          title: title ?? current.title,
          description: description ?? current.description,
          completed: completed ?? current.completed,
          user_id: current.user_id,
          created_at: current.created_at,
          updated_at: command.issued_at,
          version: current.version + 1,
        },
        result: APPLIED,
      };
    }
    case "delete": {
      if (current === null) return { next: null, result: reject("not_found") };
      if (current.user_id !== command.actor) return { next: current, result: reject("forbidden") };
      return { next: null, result: APPLIED };
    }
  }
}

export interface RecordedCommand {
  command: CommandEnvelope;
  result: CommandResult;
}

export interface Fold {
  /** Final state of every todo the commands touched (null: absent at the end). */
  readonly after: Map<string, TodoRow | null>;
  /** Results of the commands that were new, in stream order. */
  readonly recorded: RecordedCommand[];
  /** Commands skipped because their id was already recorded (redelivery or duplicate send). */
  duplicates: number;
}

/**
 * Folds commands, in stream order, over the state `before` gives for each todo.
 * A command id seen before (in `isRecorded` or earlier in this fold) is skipped:
 * that is what makes redelivery harmless.
 */
export function foldCommands(
  commands: Iterable<CommandEnvelope>,
  before: (todoId: string) => TodoRow | null,
  isRecorded: (commandId: string) => boolean,
): Fold {
  const fold: Fold = { after: new Map(), recorded: [], duplicates: 0 };
  const seen = new Set<string>();
  for (const command of commands) {
    if (seen.has(command.command_id) || isRecorded(command.command_id)) {
      fold.duplicates++;
      continue;
    }
    seen.add(command.command_id);
    const current = fold.after.has(command.todo_id)
      ? (fold.after.get(command.todo_id) ?? null)
      : before(command.todo_id);
    const { next, result } = applyCommand(current, command);
    fold.after.set(command.todo_id, next);
    fold.recorded.push({ command, result });
  }
  return fold;
}

/** The whole stream in memory: what tests and the benchmark expect the database to hold. */
export class CommandStreamModel {
  readonly todos = new Map<string, TodoRow>();
  readonly results = new Map<string, CommandResult>();

  apply(commands: Iterable<CommandEnvelope>): void {
    const fold = foldCommands(
      commands,
      (id) => this.todos.get(id) ?? null,
      (id) => this.results.has(id),
    );
    for (const [id, row] of fold.after) {
      if (row === null) this.todos.delete(id);
      else this.todos.set(id, row);
    }
    for (const { command, result } of fold.recorded) this.results.set(command.command_id, result);
  }
}
