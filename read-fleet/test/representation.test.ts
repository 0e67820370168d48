import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { COMPRESS_MIN_BYTES } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { BROTLI, GZIP, IDENTITY } from "../src/negotiation";
import { buildRepresentation } from "../src/representation";

const big = JSON.stringify(
  Array.from({ length: 100 }, (_, i) => ({ id: i, title: `todo ${i}`, completed: i % 2 === 0 })),
);

describe("buildRepresentation", () => {
  it("prebuilds identity, gzip and brotli bodies that decode to the same bytes", async () => {
    const rep = await buildRepresentation(big, { cacheControl: "public, max-age=1" });
    const identity = rep.variants[IDENTITY].body;
    expect(identity.toString()).toBe(big);
    expect(gunzipSync(rep.variants[GZIP].body).equals(identity)).toBe(true);
    expect(brotliDecompressSync(rep.variants[BROTLI].body).equals(identity)).toBe(true);
    expect(rep.variants[GZIP].body.length).toBeLessThan(identity.length);
  });

  it("gives each encoding its own strong ETag derived from the content", async () => {
    const a = await buildRepresentation(big, { cacheControl: "c" });
    const b = await buildRepresentation(big, { cacheControl: "c" });
    const tags = a.variants.map((v) => v.etag);
    expect(new Set(tags).size).toBe(3);
    for (const t of tags) expect(t).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(b.variants.map((v) => v.etag)).toEqual(tags);
    const c = await buildRepresentation(`${big} `, { cacheControl: "c" });
    expect(c.variants[IDENTITY].etag).not.toBe(a.variants[IDENTITY].etag);
  });

  it("writes the headers of 200 and 304 as one status block", async () => {
    const rep = await buildRepresentation(big, {
      cacheControl: "public, max-age=1",
      extraHeaders: [["Link", '</todos?limit=1&cursor=x>; rel="next"']],
    });
    const gz = rep.variants[GZIP];
    const head = gz.head200.toString("latin1").split("\r\n");
    expect(head[0]).toBe("200 OK");
    expect(head).toContain("Content-Encoding: gzip");
    expect(head).toContain("Vary: Accept-Encoding");
    expect(head).toContain("Cache-Control: public, max-age=1");
    expect(head).toContain(`ETag: ${gz.etag}`);
    expect(head).toContain('Link: </todos?limit=1&cursor=x>; rel="next"');
    expect(rep.variants[IDENTITY].head200.toString()).not.toContain("Content-Encoding");
    const h304 = gz.head304.toString("latin1").split("\r\n");
    expect(h304[0]).toBe("304 Not Modified");
    expect(h304).toContain(`ETag: ${gz.etag}`);
    expect(h304.some((l) => l.startsWith("Content-Length"))).toBe(false);
  });

  it("keeps every wire buffer alone in its ArrayBuffer (what uWS is handed)", async () => {
    const rep = await buildRepresentation(big, { cacheControl: "c" });
    for (const v of rep.variants) {
      expect(Buffer.from(v.wire.body).equals(v.body)).toBe(true);
      expect(v.wire.body.byteLength).toBe(v.body.length);
      expect(Buffer.from(v.wire.head200).equals(v.head200)).toBe(true);
      expect(v.wire.head304.byteLength).toBe(v.head304.length);
    }
  });

  it("does not compress small bodies", async () => {
    const small = '{"id":"x"}';
    expect(small.length).toBeLessThan(COMPRESS_MIN_BYTES);
    const rep = await buildRepresentation(small, { cacheControl: "c" });
    expect(rep.variants[GZIP]).toBe(rep.variants[IDENTITY]);
    expect(rep.variants[BROTLI]).toBe(rep.variants[IDENTITY]);
  });
});
