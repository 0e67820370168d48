import { describe, expect, it } from "vitest";
import { FramingError, header, type Response1, ResponseParser } from "../src/http1-framing";

function parser(keepBody = true): { feed: (s: string) => void; got: Response1[] } {
  const got: Response1[] = [];
  const p = new ResponseParser(
    (r) => got.push(r),
    () => keepBody,
  );
  return { feed: (s) => p.feed(Buffer.from(s, "latin1")), got };
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;

describe("ResponseParser", () => {
  it("frames a Content-Length body and keeps its bytes when asked", () => {
    const { feed, got } = parser();
    feed(ok("[1,2]"));
    expect(got).toHaveLength(1);
    const [r] = got;
    expect(r?.status).toBe(200);
    expect(r?.body?.toString()).toBe("[1,2]");
    expect([r?.bodyLength, r?.first, r?.last]).toEqual([5, 0x5b, 0x5d]);
    expect(header(r?.head ?? "", "content-type")).toBe("application/json");
  });

  it("keeps only the length and the first and last byte when the body is not wanted", () => {
    const { feed, got } = parser(false);
    feed(ok('{"a":1}'));
    expect(got[0]?.body).toBeNull();
    expect([got[0]?.bodyLength, got[0]?.first, got[0]?.last]).toEqual([7, 0x7b, 0x7d]);
  });

  it("frames a response split across reads anywhere, in the head and in the body", () => {
    const whole = ok('[{"id":"x"}]', 'ETag: "e1"\r\n');
    for (let cut = 1; cut < whole.length; cut++) {
      const { feed, got } = parser();
      feed(whole.slice(0, cut));
      expect(got).toHaveLength(0);
      feed(whole.slice(cut));
      expect(got.map((r) => r.body?.toString())).toEqual(['[{"id":"x"}]']);
      expect(header(got[0]?.head ?? "", "etag")).toBe('"e1"');
    }
  });

  it("frames one byte at a time", () => {
    const { feed, got } = parser();
    for (const c of ok("[]") + ok("[3]")) feed(c);
    expect(got.map((r) => r.body?.toString())).toEqual(["[]", "[3]"]);
  });

  it("frames pipelined responses in one read, in order, with no body for 204 and 304", () => {
    const { feed, got } = parser();
    feed(
      `${ok("[1]")}HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n` +
        `HTTP/1.1 204 No Content\r\n\r\n${ok("", "Connection: close\r\n")}${ok("[2]")}`,
    );
    expect(got.map((r) => [r.status, r.bodyLength, r.body?.toString()])).toEqual([
      [200, 3, "[1]"],
      [304, 0, ""],
      [204, 0, ""],
      [200, 0, ""],
      [200, 3, "[2]"],
    ]);
    expect(header(got[3]?.head ?? "", "connection")).toBe("close");
  });

  it("says when a response is part way in", () => {
    const p = new ResponseParser(() => {});
    expect(p.midResponse).toBe(false);
    p.feed(Buffer.from("HTTP/1.1 200 OK\r\nContent-"));
    expect(p.midResponse).toBe(true);
    p.feed(Buffer.from("Length: 2\r\n\r\n["));
    expect(p.midResponse).toBe(true);
    p.feed(Buffer.from("]"));
    expect(p.midResponse).toBe(false);
  });

  it("refuses a chunked body: the servers under test always send Content-Length", () => {
    const { feed } = parser();
    expect(() =>
      feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n"),
    ).toThrow(new FramingError("Transfer-Encoding instead of Content-Length"));
  });

  it("refuses a response without a length, a bad status line and an endless head", () => {
    expect(() => parser().feed("HTTP/1.1 200 OK\r\n\r\n")).toThrow(/no Content-Length/);
    expect(() => parser().feed("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n")).toThrow(
      /no Content-Length/,
    );
    expect(() => parser().feed("SSH-2.0-OpenSSH\r\n\r\n")).toThrow(/status line/);
    expect(() => parser().feed(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}`)).toThrow(
      FramingError,
    );
  });

  it("passes on what the callback throws and stops there", () => {
    const seen: number[] = [];
    const p = new ResponseParser((r) => {
      seen.push(r.status);
      throw new FramingError("an answer to no request");
    });
    expect(() => p.feed(Buffer.from(ok("[]") + ok("[]")))).toThrow(/no request/);
    expect(seen).toEqual([200]);
  });
});
