import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { repoRoot } from "../../src/paths";

/**
 * Checks real responses against `shared/openapi.yaml`: the status must be
 * documented for the operation, headers the document marks required must be
 * there and match their schema, and a JSON body must match its schema (Ajv,
 * JSON Schema 2020-12 as OpenAPI 3.1 uses). It also records which documented
 * statuses were seen, so a test can prove it exercised all of them.
 */

export const OPENAPI_PATH = join(repoRoot, "shared", "openapi.yaml");

const METHODS = ["get", "head", "post", "put", "patch", "delete", "options", "trace"] as const;
const DOC_ID = "https://million-rps.invalid/openapi.yaml";

type Json = Record<string, unknown>;

export interface Operation {
  operationId: string;
  method: string;
  path: string;
  /** Documented statuses, as strings ("200", "4XX", "default"). */
  statuses: string[];
}

export interface Observed {
  status: number;
  headers: Headers;
  body: string;
}

function escapePointer(part: string): string {
  return part.replaceAll("~", "~0").replaceAll("/", "~1");
}

export class OpenApiContract {
  readonly doc: Json;
  readonly text: Buffer;
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly byId = new Map<string, Operation & { pointer: string }>();
  /** operationId -> statuses seen in checked responses. */
  readonly seen = new Map<string, Set<number>>();

  constructor(path = OPENAPI_PATH) {
    this.text = readFileSync(path);
    this.doc = parse(this.text.toString("utf8")) as Json;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    // The whole document is registered once, so `#/components/...` refs resolve from any pointer.
    this.ajv.addSchema({ ...this.doc, $id: DOC_ID });
    const paths = this.doc.paths as Record<string, Json>;
    for (const [path, item] of Object.entries(paths)) {
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        if (op === undefined) continue;
        const operationId = op.operationId as string;
        this.byId.set(operationId, {
          operationId,
          method: method.toUpperCase(),
          path,
          statuses: Object.keys(op.responses as Json),
          pointer: `/paths/${escapePointer(path)}/${method}`,
        });
      }
    }
  }

  operations(): Operation[] {
    return [...this.byId.values()].map(({ pointer: _, ...op }) => op);
  }

  /** Follows a local `$ref`; returns the object and its JSON pointer. */
  private deref(value: unknown, pointer: string): { value: Json; pointer: string } {
    let v = value as Json;
    let p = pointer;
    for (let depth = 0; typeof v.$ref === "string" && depth < 10; depth++) {
      const ref = v.$ref as string;
      if (!ref.startsWith("#/")) throw new Error(`only local refs are supported: ${ref}`);
      p = ref.slice(1);
      v = this.at(p) as Json;
    }
    return { value: v, pointer: p };
  }

  private at(pointer: string): unknown {
    let v: unknown = this.doc;
    for (const raw of pointer.split("/").slice(1)) {
      const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
      v = (v as Json | undefined)?.[part];
    }
    return v;
  }

  private validator(pointer: string): ValidateFunction {
    let fn = this.validators.get(pointer);
    if (fn === undefined) {
      fn = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      this.validators.set(pointer, fn);
    }
    return fn;
  }

  private validate(pointer: string, value: unknown, what: string): string[] {
    const fn = this.validator(pointer);
    if (fn(value)) return [];
    return [`${what}: ${this.ajv.errorsText(fn.errors, { dataVar: what })}`];
  }

  /** Everything about `observed` that the document does not allow; empty when it conforms. */
  problems(operationId: string, observed: Observed): string[] {
    const op = this.byId.get(operationId);
    if (op === undefined) return [`no operation ${operationId} in the document`];
    const status = String(observed.status);
    const responses = (this.at(`${op.pointer}/responses`) ?? {}) as Json;
    const key = [status, `${status[0]}XX`, "default"].find((k) => k in responses);
    if (key === undefined) {
      return [`${op.method} ${op.path}: status ${status} is not documented (${op.statuses})`];
    }
    this.seen.set(operationId, (this.seen.get(operationId) ?? new Set()).add(observed.status));
    const out: string[] = [];
    const response = this.deref(responses[key], `${op.pointer}/responses/${key}`);
    for (const [name, raw] of Object.entries((response.value.headers ?? {}) as Json)) {
      const header = this.deref(raw, `${response.pointer}/headers/${escapePointer(name)}`);
      const value = observed.headers.get(name);
      if (value === null) {
        if (header.value.required === true) out.push(`required header ${name} is missing`);
        continue;
      }
      const schema = header.value.schema as Json | undefined;
      if (schema === undefined) continue;
      const typed = this.deref(schema, `${header.pointer}/schema`).value.type === "integer";
      out.push(
        ...this.validate(
          `${header.pointer}/schema`,
          typed && /^-?\d+$/.test(value) ? Number(value) : value,
          `header ${name}`,
        ),
      );
    }
    const content = response.value.content as Json | undefined;
    if (content === undefined || op.method === "HEAD" || observed.status === 304) {
      if (observed.body.length > 0 && (op.method === "HEAD" || observed.status === 304))
        out.push(`a ${op.method} ${status} must have no body`);
      return out;
    }
    const mediaType = (observed.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    if (!(mediaType in content)) {
      out.push(`content type "${mediaType}" is not documented (${Object.keys(content)})`);
      return out;
    }
    const schemaPointer = `${response.pointer}/content/${escapePointer(mediaType)}/schema`;
    const format = mediaType.endsWith("json") ? "JSON" : mediaType.endsWith("yaml") ? "YAML" : null;
    if (format !== null) {
      let body: unknown;
      try {
        body = format === "JSON" ? JSON.parse(observed.body) : parse(observed.body);
      } catch {
        return [...out, `body is not ${format}: ${observed.body.slice(0, 200)}`];
      }
      out.push(...this.validate(schemaPointer, body, "body"));
    }
    return out;
  }

  /** Documented (operation, status) pairs no checked response showed. */
  unexercised(): string[] {
    const out: string[] = [];
    for (const op of this.byId.values()) {
      for (const status of op.statuses) {
        if (!this.seen.get(op.operationId)?.has(Number(status)))
          out.push(`${op.operationId} ${status}`);
      }
    }
    return out.sort();
  }
}
