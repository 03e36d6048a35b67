// The header conversion between the dev proxy's lists and the host's HeaderMap, and its caches:
// whatever the caches hold, every text comes back as exactly its own bytes and vice versa.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConvertedHeaders, headerNameBytes, headerValueBytes, pluginText, recentValueBytes } from "../../src/proxy/filters/header-conversion";
import { HeaderMap } from "../../src/host/header-map";

const latin1 = (text: string): number[] => [...Buffer.from(text, "latin1")];

/** Texts of every length up to `max`, many of them sharing first, middle and last characters. */
function manyTexts(count: number, max: number): string[] {
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + (i % max);
    let text = "";
    for (let j = 0; j < length; j++) text += String.fromCharCode(32 + ((i * 7 + j * 13 + (j === length >> 1 ? i : 0)) % 223));
    texts.push(text);
  }
  return texts;
}

/** 1000 texts of `length` that differ from each other, for texts competing for the same cache slot. */
function sameLength(length: number): string[] {
  const texts: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const chars: number[] = [];
    for (let j = 0; j < length; j++) chars.push(33 + ((i * (j + 3) + j * 11 + (i >> 3)) % 90));
    texts.push(String.fromCharCode(...chars));
  }
  return [...new Set(texts)];
}

test("header values: each text gives its own bytes, however the cache slots collide", () => {
  for (const text of manyTexts(3000, 80)) assert.deepEqual([...headerValueBytes(text)], latin1(text), JSON.stringify(text));
  // Texts of one length alternate with a fixed one: some share its slot, none may get its bytes.
  for (const length of [1, 2, 5, 17, 64]) {
    const texts = sameLength(length);
    for (const text of texts) {
      assert.deepEqual([...headerValueBytes(texts[0])], latin1(texts[0]));
      assert.deepEqual([...headerValueBytes(text)], latin1(text), JSON.stringify(text));
    }
  }
  assert.deepEqual([...headerValueBytes("")], []);
  const long = "v".repeat(500);
  assert.deepEqual([...headerValueBytes(long)], latin1(long));
});

test("header values: a repeated value reuses the bytes made for it, a different one never does", () => {
  const first = headerValueBytes("text/plain");
  assert.equal(headerValueBytes(["text", "plain"].join("/")), first);
  const other = headerValueBytes("text/plaim");
  assert.notEqual(other, first);
  assert.deepEqual([...other], latin1("text/plaim"));
  // Non-UTF-8 bytes (as node hands them over: one char per byte) survive.
  assert.deepEqual([...headerValueBytes("caf\u00e9")], [0x63, 0x61, 0x66, 0xe9]);
});

test("plugin text: each byte string comes back as its own text, however the cache slots collide", () => {
  for (const text of manyTexts(3000, 40)) assert.equal(pluginText(Uint8Array.from(latin1(text))), text);
  for (const length of [1, 2, 5, 17, 32]) {
    const texts = sameLength(length);
    for (const text of texts) {
      assert.equal(pluginText(Uint8Array.from(latin1(texts[0]))), texts[0]);
      assert.equal(pluginText(Uint8Array.from(latin1(text))), text);
    }
  }
});

test("header names are lower-cased and shared", () => {
  assert.deepEqual([...headerNameBytes("X-Bench")], latin1("x-bench"));
  assert.equal(headerNameBytes("X-Bench"), headerNameBytes("X-Bench"));
});

test("converted headers: an unread map goes back as the same list; edits come back as strings", () => {
  const list: [string, string][] = [[":status", "200"], ["content-type", "text/plain"], ["location", "/old"]];
  const unread = new ConvertedHeaders(list);
  assert.equal(unread.toList(unread.map), list);

  const edited = new ConvertedHeaders(list);
  edited.map.add("hello", "world!");
  edited.map.replace("location", "envoy-wasm");
  const back = edited.toList(edited.map);
  assert.deepEqual(back, [[":status", "200"], ["content-type", "text/plain"], ["location", "envoy-wasm"], ["hello", "world!"]]);
  // Entries the plugin left alone are the pairs they came as; a replaced one is new.
  assert.equal(back[0], list[0]);
  assert.equal(back[1], list[1]);
  assert.notEqual(back[2], list[2]);
  // Any other map converts on its own.
  assert.deepEqual(edited.toList(HeaderMap.from({ a: "b" })), [["a", "b"]]);
});

test("recent values: only a value made before, and carried exactly, is found", () => {
  const bytes = headerValueBytes("max-age=3600");
  assert.equal(recentValueBytes("max-age=" + "3600"), bytes);
  assert.equal(recentValueBytes("max-age=3601"), undefined);
  assert.equal(recentValueBytes(""), undefined);
  // A character above 0xff has no latin1 byte: such a value is converted, but never kept.
  assert.deepEqual([...headerValueBytes("price \u20ac1")], [...latin1("price \u20ac1")]);
  assert.equal(recentValueBytes("price \u20ac1"), undefined);
});

test("converted headers: with a value bytes cannot carry, an edited map comes back entirely from its bytes", () => {
  // Built twice: the second build finds its values in the cache and must still see the wide one.
  for (let round = 0; round < 2; round++) {
    const list: [string, string][] = [[":status", "200"], ["x-note", "5 \u20ac"], ["content-type", "text/plain"]];
    const edited = new ConvertedHeaders(list);
    edited.map.add("hello", "world!");
    const back = edited.toList(edited.map);
    // What the plugin saw (one byte per char, 0xac for the euro sign) is what goes on.
    assert.deepEqual(back, [[":status", "200"], ["x-note", "5 \u00ac"], ["content-type", "text/plain"], ["hello", "world!"]]);
    assert.notEqual(back[0], list[0], `round ${round}: no pair is the original one`);
  }
});
