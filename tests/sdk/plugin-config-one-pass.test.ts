// The typed configuration reader validates the JSON as it reads it (assembly/api/plugin_config.ts:
// one pass, no separate validation). It must refuse exactly what the JSON validator refuses, with
// the validator's message, wherever the fault is, and never refuse valid JSON without saying
// which field is wrong. Each module here reads its configuration with parseConfig and then
// validates the same bytes with parseJson; the texts are valid configurations broken one byte at
// a time (deleted, replaced, inserted, cut), in both reader shapes the transform makes (with an
// array or map field, and without).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createTestHost } from "../../src/testing";
import { EVERY_FIELD_DECLARATION } from "../helpers/config-declaration";
import { buildFilterSource, type BuiltFilter } from "../helpers/filter-build";
import { userProject } from "../helpers/user-project";

const project = userProject("pwas-one-pass-");

// The plugin configuration is a batch of texts, each after its length (4 bytes, little-endian),
// so that one host reads thousands. For each, onConfigure logs what parseConfig answered, then
// what parseJson says of the same bytes.
const IMPORTS = `
import { RootContext, registerDefaultRoot, parseConfig, configError, parseJson, jsonError, log } from "proxy-wasm-as/assembly";
export * from "proxy-wasm-as/assembly/exports";
`;
const ROOT = `
class Root extends RootContext {
  onConfigure(size: u32): bool {
    const batch = this.pluginConfiguration();
    const base = changetype<usize>(batch);
    for (let at: usize = 0; at + 4 <= <usize>batch.byteLength; ) {
      const length = load<u32>(base + at);
      const bytes = new ArrayBuffer(<i32>length);
      memory.copy(changetype<usize>(bytes), base + at + 4, length);
      at += 4 + <usize>length;
      const config = parseConfig<Config>(bytes);
      log.info(config === null ? "bad: " + configError() : "ok: " + show(config!));
      log.info(bytes.byteLength == 0 || parseJson(bytes) !== null ? "json" : "not json: " + jsonError());
    }
    return true;
  }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`;

const WITH_CONTAINERS = IMPORTS + EVERY_FIELD_DECLARATION + ROOT;

const WITHOUT_CONTAINERS = IMPORTS + `
// @ts-ignore: decorator
@pluginConfig
class Inner {
  id: string = "";
  n: i32 = 0;
}

// @ts-ignore: decorator
@pluginConfig
class Config {
  name!: string;
  count: u32 = 1;
  on: bool = false;
  inner: Inner | null = null;
  ratio: f64 = 0;
  note: string | null = null;
}

function show(config: Config): string {
  return config.name + " " + config.count.toString() + " " + (config.on ? "on" : "off") + " " +
    (config.inner === null ? "null" : config.inner!.id + "/" + config.inner!.n.toString()) + " " + config.ratio.toString() + " " +
    (config.note === null ? "null" : config.note!);
}
` + ROOT;

// What the JSON validator says, as its messages start (json.ts jsonError).
const SYNTAX_MESSAGE = /^(unexpected character|unexpected end of JSON|invalid UTF-8 in a string|invalid escape in a string|control character in a string|nesting deeper than 64)/;

// Each byte of `text` deleted, replaced by each of REPLACEMENTS, preceded by each of INSERTIONS,
// and the text cut before it.
const REPLACEMENTS = [0x22, 0x5c, 0x7d, 0x5d, 0x2c, 0x3a, 0x78, 0x30, 0x2d, 0x6e, 0x20, 0x01, 0xff];
const INSERTIONS = [0x22, 0x7b, 0x5b, 0x2c, 0x5c];
function mutations(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) {
    out.push(Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]));
    out.push(bytes.subarray(0, i));
    for (const b of REPLACEMENTS) if (b !== bytes[i]) out.push(Buffer.concat([bytes.subarray(0, i), Buffer.from([b]), bytes.subarray(i + 1)]));
    for (const b of INSERTIONS) out.push(Buffer.concat([bytes.subarray(0, i), Buffer.from([b]), bytes.subarray(i)]));
  }
  return out;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// Configures `wasm` with each of `texts` (a thousand to a host); returns [parseConfig's answer,
// parseJson's] for each.
function readAll(wasm: Uint8Array, texts: Buffer[]): [string, string][] {
  const answers: [string, string][] = [];
  for (let first = 0; first < texts.length; first += 1000) {
    const batch = texts.slice(first, first + 1000);
    const framed = Buffer.concat(batch.flatMap((text) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return [length, text];
    }));
    const messages = createTestHost({ wasm, pluginConfig: framed }).logs.messages;
    assert.equal(messages.length, 2 * batch.length);
    for (let i = 0; i < messages.length; i += 2) answers.push([messages[i], messages[i + 1]]);
  }
  return answers;
}

function read(wasm: Uint8Array, text: Buffer): [string, string] {
  return readAll(wasm, [text])[0];
}

// Checks every mutation of `text`; returns how many were valid JSON and how many read.
function checkMutations(wasm: Uint8Array, text: string): { valid: number; read: number; total: number } {
  let valid = 0;
  let accepted = 0;
  const cases = mutations(text);
  const answers = readAll(wasm, cases);
  for (const [index, bytes] of cases.entries()) {
    const [config, json] = answers[index];
    const shown = JSON.stringify(bytes.toString("latin1"));
    if (json === "json") {
      valid++;
      // Valid JSON: read, or refused with a field's problem, never a syntax message or none.
      assert.ok(config.startsWith("ok: ") || (config.startsWith("bad: ") && config.length > 5 && !SYNTAX_MESSAGE.test(config.slice(5))), `${shown}: ${config}`);
      if (config.startsWith("ok: ")) accepted++;
    } else {
      // Not JSON: refused with exactly the validator's message.
      assert.equal(config, `bad: ${json.slice("not json: ".length)}`, shown);
    }
    // The validator agrees with JavaScript's JSON.parse on text that is UTF-8.
    if (isUtf8(bytes) && bytes.length > 0) {
      let parses = true;
      try {
        JSON.parse(bytes.toString("utf8"));
      } catch {
        parses = false;
      }
      assert.equal(json === "json", parses, `${shown}: ${json}`);
    }
  }
  return { valid, read: accepted, total: cases.length };
}

describe("the one-pass configuration reader", () => {
  let withContainers: BuiltFilter;
  let withoutContainers: BuiltFilter;
  before(async () => {
    [withContainers, withoutContainers] = await Promise.all([
      buildFilterSource(project, "with_containers", WITH_CONTAINERS, { debug: false }),
      buildFilterSource(project, "without_containers", WITHOUT_CONTAINERS, { debug: false }),
    ]);
    assert.ok(withContainers.ok, withContainers.stderr);
    assert.ok(withoutContainers.ok, withoutContainers.stderr);
  });

  it("reads the unbroken texts", () => {
    assert.deepEqual(read(withContainers.wasm, Buffer.from(CONTAINERS_TEXT)),
      ['ok: keys=a,é✓,q"x limit=7 big=0 small=-3 enabled=true name=nA rules=[h/prefix/2.5,x/exact/1.5] labels={a=1,x-id=-2} first=f ratio=0.25', "json"]);
    assert.deepEqual(read(withContainers.wasm, Buffer.from(SPACED_TEXT)),
      ["ok: keys=a,b limit=3 big=0 small=-1 enabled=false name=null rules=[] labels={k=1} first=g ratio=0.5", "json"]);
    assert.deepEqual(read(withoutContainers.wasm, Buffer.from(SCALARS_TEXT)), ['ok: a\\b"c 12 off i/-4 100.0 null', "json"]);
  });

  it("refuses every broken text with the validator's message, with an array or map field", () => {
    const minified = checkMutations(withContainers.wasm, CONTAINERS_TEXT);
    const spaced = checkMutations(withContainers.wasm, SPACED_TEXT);
    // The mutations reach both answers: many texts stay valid, many stay readable.
    assert.ok(minified.valid > 300 && minified.read > 100, JSON.stringify(minified));
    assert.ok(spaced.valid > 100 && spaced.read > 50, JSON.stringify(spaced));
  });

  it("refuses every broken text with the validator's message, without one", () => {
    const scalars = checkMutations(withoutContainers.wasm, SCALARS_TEXT);
    assert.ok(scalars.valid > 200 && scalars.read > 50, JSON.stringify(scalars));
  });
});

const CONTAINERS_TEXT = String.raw`{"requiredKeys":["a","é✓","q\"x"],"limit":7,"enabled":true,"name":"n\u0041","rules":[{"header":"h","mode":"prefix","weight":2.5},{"header":"x"}],"labels":{"a":1,"x-id":-2},"first":{"header":"f"},"ratio":0.25,"small":-3}`;
const SPACED_TEXT = '{ "requiredKeys" : [ "a" , "b" ] ,\n "labels" : { "k" : 1 } , "rules" : [ ] , "first" : { "header" : "g" } , "limit" : 3 }\n';
const SCALARS_TEXT = String.raw`{"name":"a\\b\"c","count":12,"on":false,"inner":{"id":"i","n":-4},"ratio":1e2,"note":null}`;
