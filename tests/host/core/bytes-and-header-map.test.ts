// The host's byte conversions and header maps take fast paths (hand-converted short ASCII, cached
// lower-cased names, copy-on-write clones); each must give exactly what the general path gives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { asciiLower, bytesToString, toBytes } from "../../../src/host/bytes";
import { HeaderMap } from "../../../src/host/header-map";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

test("toBytes equals TextEncoder on ASCII, non-ASCII and lone surrogates, at and around the short-text limit", () => {
  const samples = ["", "a", "x".repeat(127), "x".repeat(128), "x".repeat(129), "héllo ✓", `${"x".repeat(127)}é`, "\ud800", "a\udc00b", "\u0000\u007f"];
  for (const text of samples) assert.deepEqual(toBytes(text), utf8.encode(text), JSON.stringify(text));
  const bytes = new Uint8Array([1, 2, 3]);
  assert.equal(toBytes(bytes), bytes, "bytes are passed through, not copied");
});

test("bytesToString equals TextDecoder, invalid UTF-8 becoming U+FFFD", () => {
  const samples = [[], [0x41], Array(128).fill(0x62), Array(129).fill(0x62), [0x68, 0xc3, 0xa9], [0xff, 0x41], [0xc3], [0x46, 0xff, 0x4f], [0x00, 0x7f]];
  for (const sample of samples) {
    const bytes = new Uint8Array(sample);
    assert.equal(bytesToString(bytes), utf8Decoder.decode(bytes), JSON.stringify(sample));
  }
  assert.equal(bytesToString(new Uint8Array([0xff, 0x41])), "\ufffdA");
});

test("asciiLower lower-cases A-Z only and returns the same array when nothing changes", () => {
  const lower = toBytes("already-lower");
  assert.equal(asciiLower(lower), lower);
  const mixed = new Uint8Array([0x58, 0x2d, 0xc3, 0x89, 0x5a]); // "X-É" (É kept) "Z"
  assert.deepEqual(asciiLower(mixed), new Uint8Array([0x78, 0x2d, 0xc3, 0x89, 0x7a]));
  assert.deepEqual(mixed, new Uint8Array([0x58, 0x2d, 0xc3, 0x89, 0x5a]), "the input is not changed");
});

test("a clone and its original stay independent whichever changes first", () => {
  const original = HeaderMap.from([[":status", "200"], ["X-A", "1"], ["x-a", "2"]]);
  const clone = original.clone();
  clone.replace("x-a", "3");
  clone.add("x-new", "n");
  assert.deepEqual(original.toArray(), [[":status", "200"], ["x-a", "1"], ["x-a", "2"]]);
  assert.deepEqual(clone.toArray(), [[":status", "200"], ["x-a", "3"], ["x-new", "n"]]);

  const second = original.clone();
  original.remove("X-A");
  assert.deepEqual(original.toArray(), [[":status", "200"]]);
  assert.deepEqual(second.toArray(), [[":status", "200"], ["x-a", "1"], ["x-a", "2"]]);
});

test("names are matched case-insensitively and stored lower-case, also when the cached name is reused", () => {
  const first = new HeaderMap();
  first.add("Content-Type", "text/plain");
  const second = new HeaderMap();
  second.add("CONTENT-TYPE", "application/json");
  second.replace("content-type", "text/html");
  assert.deepEqual(first.toArray(), [["content-type", "text/plain"]]);
  assert.deepEqual(second.toArray(), [["content-type", "text/html"]]);
  assert.equal(first.getString("content-TYPE"), "text/plain");
  assert.deepEqual(first.getAll("CONTENT-type").map((v) => bytesToString(v)), ["text/plain"]);
});

test("HeaderMap.lazy: built on first read only, clones share the builder, writes never touch the built list", async () => {
  const { HeaderMap } = await import("../../../src/host/header-map");
  const list: [Uint8Array, Uint8Array][] = [[new TextEncoder().encode("a"), new TextEncoder().encode("1")]];
  let builds = 0;
  const map = HeaderMap.lazy({
    headerEntries: () => {
      builds++;
      return list;
    },
  });
  const copy = map.clone();
  assert.equal(builds, 0);
  assert.equal(map.built, false);
  assert.equal(map.size, 1);
  assert.equal(builds, 1);
  assert.equal(map.built, true);
  assert.equal(copy.built, false, "a clone taken before the build is built on its own read");
  map.add("b", "2");
  assert.equal(list.length, 1, "the built list is copied before the first write");
  assert.deepEqual(map.toArray(), [["a", "1"], ["b", "2"]]);
  assert.deepEqual(copy.toArray(), [["a", "1"]]);
  const cleared = HeaderMap.lazy({
    headerEntries: () => {
      throw new Error("never built");
    },
  });
  cleared.clear();
  assert.equal(cleared.size, 0);
  assert.equal(cleared.built, true);
});
