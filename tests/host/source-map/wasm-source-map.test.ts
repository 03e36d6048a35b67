// The source map reader and the section edits used for source maps: decoding Base64 VLQ
// mappings, refusing malformed maps with a reason, and adding/removing the sourceMappingURL
// section without moving code.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SourceMapError } from "../../../src/host/source-map/source-map-error";
import { WasmSourceMap } from "../../../src/host/source-map/wasm-source-map";
import { functionBodyStarts, sourceMappingUrlOf, withoutSourceMappingUrl, withSourceMappingUrl } from "../../../src/host/module/wasm-sections";
import { compileWat } from "../../proxy/wat-filters";

describe("WasmSourceMap", () => {
  // Offsets 10 -> a.ts 1:1, 20 -> b.ts 3:5 (name index ignored), 30 -> no source, 40 -> a.ts 2:3.
  // Segments: [10,0,0,0] "UAAA"; [+10,+1,+2,+4,0] "UCEIA"; [+10] "U"; [+10,-1,-1,-2] "UDDF".
  const map = WasmSourceMap.parse(JSON.stringify({ version: 3, sources: ["a.ts", "~lib/b.ts"], names: ["f"], mappings: "UAAA,UCEIA,U,UDDF" }));

  it("maps an offset to the mapping at or before it, lines and columns from 1", () => {
    assert.equal(map.size, 4);
    assert.equal(map.positionAt(9), null);
    assert.deepEqual(map.positionAt(10), { source: "a.ts", line: 1, column: 1 });
    assert.deepEqual(map.positionAt(25), { source: "~lib/b.ts", line: 3, column: 5 });
    assert.equal(map.positionAt(30), null, "a source-less mapping ends the one before");
    assert.deepEqual(map.positionAtOrBefore(35, 0), { source: "~lib/b.ts", line: 3, column: 5 });
    assert.equal(map.positionAtOrBefore(35, 25), null, "not before the function's start");
    assert.deepEqual(map.positionAt(1000), { source: "a.ts", line: 2, column: 3 });
  });

  it("finds the nearest user position, skipping ~lib", () => {
    assert.deepEqual(map.userPositionAtOrBefore(35, 0), { source: "a.ts", line: 1, column: 1 });
    assert.equal(map.userPositionAtOrBefore(35, 11), null);
  });

  it("refuses malformed maps, saying why", () => {
    const cases: [string, string][] = [
      ["nope", "not JSON"],
      [JSON.stringify({ version: 2, sources: [], mappings: "" }), "not a version 3 source map"],
      [JSON.stringify({ version: 3, mappings: "" }), "no sources or mappings"],
      [JSON.stringify({ version: 3, sources: ["a"], mappings: "AA" }), "a mapping segment has 2 fields"],
      [JSON.stringify({ version: 3, sources: ["a"], mappings: "AAAA;AAAA" }), "a wasm source map has one line of mappings"],
      [JSON.stringify({ version: 3, sources: ["a"], mappings: "UAAA,DAAA" }), "mappings are not in offset order"],
      [JSON.stringify({ version: 3, sources: ["a"], mappings: "g" }), "a number runs past the end of its segment at 1"],
      [JSON.stringify({ version: 3, sources: ["a"], mappings: "A!" }), "bad character in mappings at 1"],
      [JSON.stringify({ version: 3, sources: ["a"], mappings: "gggggggggA" }), "number too long in mappings at 8"],
    ];
    for (const [text, reason] of cases) {
      assert.throws(() => WasmSourceMap.parse(text), (error: unknown) => error instanceof SourceMapError && error.message.startsWith(reason), reason);
    }
  });
});

describe("sourceMappingURL section", () => {
  const module = compileWat(`(module (func $a (drop (i32.const 1))) (func $b (nop)) (export "a" (func $a)))`);

  it("is added at the end, replaced, and removed without moving code", () => {
    assert.equal(sourceMappingUrlOf(module), undefined);
    const starts = functionBodyStarts(module);
    assert.equal(starts.length, 2);
    const withUrl = withSourceMappingUrl(module, "file:///tmp/a.wasm.map");
    assert.equal(sourceMappingUrlOf(withUrl), "file:///tmp/a.wasm.map");
    assert.deepEqual(functionBodyStarts(withUrl), starts);
    const replaced = withSourceMappingUrl(withUrl, "./b.map");
    assert.equal(sourceMappingUrlOf(replaced), "./b.map");
    assert.deepEqual(WebAssembly.Module.customSections(new WebAssembly.Module(replaced as Uint8Array<ArrayBuffer>), "sourceMappingURL").length, 1);
    assert.deepEqual(withoutSourceMappingUrl(replaced), module);
    assert.equal(withoutSourceMappingUrl(module), module, "unchanged bytes are returned as they are");
  });

  it("refuses a truncated module", () => {
    assert.throws(() => withSourceMappingUrl(module.subarray(0, module.length - 1), "x"), /runs past the end/);
    assert.throws(() => functionBodyStarts(new Uint8Array([0, 0x61])), /shorter than its 8-byte header/);
  });
});
