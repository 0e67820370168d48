/** The todo as every surface shows it (snake_case, as the seed's clients read it). */
export interface Todo {
  id: string;
  title: string;
  description: string;
  completed: boolean;
  user_id: string;
  /** RFC 3339, UTC, microsecond precision. */
  created_at: string;
  updated_at: string;
}

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;

/** Fields a client may set. `create` needs a title; `update` needs any non-empty subset. */
export interface TodoFields {
  title?: string;
  description?: string;
  completed?: boolean;
}

export interface NewTodoFields {
  title: string;
  description: string;
  completed: boolean;
}

export type Validation<T> =
  | { ok: true; value: T }
  | { ok: false; field: string | null; message: string };

const FIELD_NAMES = new Set(["title", "description", "completed"]);

// Postgres text cannot hold NUL, and control characters have no place in a title;
// refusing them here means a 202 is never given to a command the database would refuse.
// (Tab, line feed and carriage return stay allowed in a description.)
function hasControlCharacter(value: string, allowed = ""): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !allowed.includes(value.charAt(i))) return true;
  }
  return false;
}

function fail(
  field: string | null,
  message: string,
): { ok: false; field: string | null; message: string } {
  return { ok: false, field, message };
}

/**
 * Whether `value` has more than `max` Unicode code points (an emoji counts once). A
 * string has no more code points than UTF-16 units, so only a long one is counted.
 */
function longerThan(value: string, max: number): boolean {
  if (value.length <= max) return false;
  let n = 0;
  for (const _ of value) if (++n > max) return true;
  return false;
}

/** Validates the fields object shared by create and update; rejects unknown fields. */
export function validateTodoFields(input: unknown): Validation<TodoFields> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail(null, "body must be a JSON object");
  }
  const out: TodoFields = {};
  const fields = input as Record<string, unknown>;
  // for...in, not Object.entries: no array per field (a parsed JSON object has only own keys).
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (!FIELD_NAMES.has(key)) return fail(key, `unknown field "${key}"`);
    if (key === "title") {
      if (typeof value !== "string") return fail("title", "title must be a string");
      if (value.trim().length === 0) return fail("title", "title must not be empty");
      if (hasControlCharacter(value))
        return fail("title", "title must not contain control characters");
      if (longerThan(value, TITLE_MAX))
        return fail("title", `title must be at most ${TITLE_MAX} characters`);
      out.title = value;
    } else if (key === "description") {
      if (typeof value !== "string") return fail("description", "description must be a string");
      if (hasControlCharacter(value, "\t\n\r")) {
        return fail(
          "description",
          "description must not contain control characters other than tab and line breaks",
        );
      }
      if (longerThan(value, DESCRIPTION_MAX)) {
        return fail("description", `description must be at most ${DESCRIPTION_MAX} characters`);
      }
      out.description = value;
    } else {
      if (typeof value !== "boolean") return fail("completed", "completed must be a boolean");
      out.completed = value;
    }
  }
  return { ok: true, value: out };
}

export function validateNewTodo(input: unknown): Validation<NewTodoFields> {
  const fields = validateTodoFields(input);
  if (!fields.ok) return fields;
  const { title, description = "", completed = false } = fields.value;
  if (title === undefined) return fail("title", "title is required");
  return { ok: true, value: { title, description, completed } };
}

export function validateTodoUpdate(input: unknown): Validation<TodoFields> {
  const fields = validateTodoFields(input);
  if (!fields.ok) return fields;
  if (Object.keys(fields.value).length === 0) {
    return fail(null, "body must set at least one of title, description, completed");
  }
  return fields;
}
