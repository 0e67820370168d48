import { HttpError, isUuid } from "@million-rps/shared";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** Largest accepted body, in bytes after any base64 decoding. */
export const BODY_MAX_BYTES = 16 * 1024;
/** Idempotency keys are opaque client strings; bounded so they cannot bloat a hash input. */
export const IDEMPOTENCY_KEY_MAX = 255;

/** A 400 that names the offending field (`null` when the body as a whole is wrong). */
export class ValidationError extends HttpError {
  override name = "ValidationError";
  constructor(
    readonly field: string | null,
    message: string,
    code = field === null ? "invalid_body" : "invalid_field",
  ) {
    super(400, code, message);
  }
}

/** API Gateway v2 lower-cases header names and joins repeated values with commas. */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name];
}

const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
}

/** The JSON body of a create or update: 415, 413 and 400 before anything is parsed further. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = header(event, "content-type");
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Content-Type must be application/json (UTF-8)",
    );
  }
  // Cheap bound before decoding: base64 grows 4/3, UTF-8 text never shrinks to fewer bytes.
  const length = event.body?.length ?? 0;
  const bytes =
    length > (event.isBase64Encoded ? (BODY_MAX_BYTES * 4) / 3 + 4 : BODY_MAX_BYTES)
      ? null
      : bodyBytes(event);
  if (bytes === null || bytes.byteLength > BODY_MAX_BYTES) {
    throw new HttpError(
      413,
      "payload_too_large",
      `the body must be at most ${BODY_MAX_BYTES} bytes`,
    );
  }
  if (bytes.byteLength === 0) throw new ValidationError(null, "a JSON body is required");
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ValidationError(null, "the body is not valid UTF-8", "invalid_json");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(null, "the body is not valid JSON", "invalid_json");
  }
}

/** The `{id}` path parameter: a canonical lower-case UUID, else 400. */
export function todoIdFrom(event: APIGatewayProxyEventV2): string {
  const id = event.pathParameters?.id;
  if (!isUuid(id))
    throw new ValidationError("id", "the todo id must be a lower-case UUID", "invalid_id");
  return id;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** The optional `Idempotency-Key` header: 1..255 printable ASCII characters. */
export function idempotencyKeyFrom(event: APIGatewayProxyEventV2): string | undefined {
  const key = header(event, "idempotency-key");
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX || !PRINTABLE_ASCII.test(key)) {
    throw new ValidationError(
      "Idempotency-Key",
      `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX} printable ASCII characters`,
      "invalid_idempotency_key",
    );
  }
  return key;
}
