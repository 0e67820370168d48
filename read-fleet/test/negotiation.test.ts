import { describe, expect, it } from "vitest";
import {
  acceptEncodingMemo,
  BROTLI,
  GZIP,
  IDENTITY,
  ifNoneMatchMatches,
  parseAcceptEncoding,
} from "../src/negotiation";

describe("parseAcceptEncoding", () => {
  it.each([
    ["", IDENTITY],
    ["gzip", GZIP],
    ["x-gzip", GZIP],
    ["br", BROTLI],
    ["gzip, br", BROTLI],
    ["gzip, deflate, br, zstd", BROTLI],
    ["GZIP", GZIP],
    ["br;q=0.5, gzip", GZIP],
    ["br;q=1, gzip;q=0.9", BROTLI],
    ["gzip;q=0, br;q=0", IDENTITY],
    ["gzip;q=0", IDENTITY],
    ["*", BROTLI],
    ["*;q=0", IDENTITY],
    ["br;q=0, *", GZIP],
    ["identity", IDENTITY],
    ["deflate", IDENTITY],
    ["gzip;q=abc", IDENTITY],
    ["gzip;q=2", IDENTITY],
    [" gzip ; q=0.3 ", GZIP],
    [",,,", IDENTITY],
  ])("%j picks %i", (header, expected) => {
    expect(parseAcceptEncoding(header)).toBe(expected);
  });

  it("memoizes per header and stays bounded", () => {
    const negotiate = acceptEncodingMemo(4);
    for (let i = 0; i < 50; i++) expect(negotiate(`gzip, x${i}`)).toBe(GZIP);
    expect(negotiate("br")).toBe(BROTLI);
    expect(negotiate("br")).toBe(BROTLI);
  });
});

describe("ifNoneMatchMatches", () => {
  const etag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc"', true],
    ["*", true],
    ['"abd"', false],
    ["abc", false],
    ['"abc-gz"', false],
    ["", false],
  ])("%j -> %s", (header, expected) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(expected);
  });

  it("refuses absurdly long headers without scanning them", () => {
    expect(ifNoneMatchMatches(`${'"x",'.repeat(5000)}"abc"`, etag)).toBe(false);
  });
});
