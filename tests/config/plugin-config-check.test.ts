// The Node side of typed plugin configuration: the schema a module carries (custom section, or
// the file beside it) and the check of a configuration against it, in the SDK parser's words.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { scanJsonText } from "../../src/config/json-text-positions";
import { CONFIG_SCHEMA_SECTION, ConfigSchemaError, configSchemaFilePath, readModuleConfigSchema } from "../../src/config/module-config-schema";
import { checkPluginConfiguration, fieldPath } from "../../src/config/plugin-config-check";
import { readConfigSchema } from "../../src/config/config-schema";
import { KEYS_SCHEMA, withConfigSchema, withCustomSection } from "../helpers/config-schema-module";
import { TINY_FILTER } from "../oci/fixture-wasm";

const dir = mkdtempSync(join(tmpdir(), "pwas-config-schema-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const check = (text: string) => checkPluginConfiguration(text, KEYS_SCHEMA as unknown as Record<string, unknown>);

describe("a module's configuration schema", () => {
  it("is read from the custom section, which wins over the file beside the module", () => {
    const path = join(dir, "declared.wasm");
    writeFileSync(configSchemaFilePath(path), JSON.stringify({ type: "string" }));
    const found = readModuleConfigSchema(withConfigSchema(TINY_FILTER, KEYS_SCHEMA), path);
    assert.deepEqual(found, { schema: KEYS_SCHEMA, source: "custom section proxy-wasm-as.config-schema" });
    assert.equal(CONFIG_SCHEMA_SECTION, "proxy-wasm-as.config-schema");
  });

  it("for a module taken out of an image, reads the plugin.schema.json the image carries when the module has no section", () => {
    const carried = { bytes: Buffer.from(JSON.stringify(KEYS_SCHEMA)), source: "plugin.schema.json" };
    assert.deepEqual(readModuleConfigSchema(TINY_FILTER, undefined, carried), { schema: KEYS_SCHEMA, source: "plugin.schema.json" });
    const other = { bytes: Buffer.from('{"type":"string"}'), source: "plugin.schema.json" };
    assert.deepEqual(readModuleConfigSchema(withConfigSchema(TINY_FILTER, KEYS_SCHEMA), undefined, other)?.source, "custom section proxy-wasm-as.config-schema");
    assert.deepEqual(readConfigSchema(TINY_FILTER, undefined, carried), KEYS_SCHEMA);
    assert.deepEqual(readConfigSchema(new WebAssembly.Module(new Uint8Array(TINY_FILTER)), undefined, carried), KEYS_SCHEMA);
    assert.equal(readConfigSchema(new WebAssembly.Module(new Uint8Array(TINY_FILTER))), null);
    assert.throws(() => readModuleConfigSchema(TINY_FILTER, undefined, { bytes: Buffer.from("[1]"), source: "plugin.schema.json" }), {
      name: "ConfigSchemaError",
      message: "plugin.schema.json: the configuration schema is not a JSON object",
    });
  });

  it("falls back to <module>.schema.json beside the module; none at all is null", () => {
    const path = join(dir, "beside.wasm");
    assert.equal(configSchemaFilePath(path), join(dir, "beside.schema.json"));
    assert.equal(readModuleConfigSchema(TINY_FILTER, path), null);
    writeFileSync(join(dir, "beside.schema.json"), JSON.stringify({ type: "object" }));
    assert.deepEqual(readModuleConfigSchema(TINY_FILTER, path), { schema: { type: "object" }, source: join(dir, "beside.schema.json") });
    // Bytes from an image layer have no file beside them.
    assert.equal(readModuleConfigSchema(TINY_FILTER), null);
  });

  it("other custom sections are passed over; bytes that are not wasm have no schema (the loader reports them)", () => {
    const other = withCustomSection(TINY_FILTER, "proxy-wasm-as.config-schemaX", new TextEncoder().encode("{}"));
    assert.equal(readModuleConfigSchema(other), null);
    assert.equal(readModuleConfigSchema(new TextEncoder().encode("not wasm at all")), null);
    const truncated = withConfigSchema(TINY_FILTER, KEYS_SCHEMA).subarray(0, TINY_FILTER.length + 5);
    assert.equal(readModuleConfigSchema(truncated), null);
  });

  it("a schema that is not a JSON object is a ConfigSchemaError naming where it is", () => {
    assert.throws(() => readModuleConfigSchema(withConfigSchema(TINY_FILTER, "{")), (error: unknown) => {
      assert.ok(error instanceof ConfigSchemaError);
      assert.match(error.message, /^custom section proxy-wasm-as\.config-schema: the configuration schema is not JSON: /);
      return true;
    });
    assert.throws(() => readModuleConfigSchema(withConfigSchema(TINY_FILTER, "[1]")), { message: "custom section proxy-wasm-as.config-schema: the configuration schema is not a JSON object" });
    const notUtf8 = withCustomSection(TINY_FILTER, CONFIG_SCHEMA_SECTION, new Uint8Array([0x7b, 0xff, 0x7d]));
    assert.throws(() => readModuleConfigSchema(notUtf8), { message: "custom section proxy-wasm-as.config-schema: the configuration schema is not UTF-8" });
  });
});

describe("a plugin configuration checked against the schema", () => {
  it("a matching configuration has no problems", () => {
    assert.deepEqual(check('{"requiredKeys":["id"],"mode":"lenient","limit":-3,"ratio":0.5,"upstream":{"cluster":"auth","timeoutMs":100},"labels":{"a":true}}'), []);
    assert.deepEqual(check('{"requiredKeys":[],"upstream":null}'), []);
  });

  it("a wrong type names the field path, what was expected, what it got and where", () => {
    assert.deepEqual(check('{"requiredKeys": ["id", 7]}'), ["requiredKeys[1]: expected a string, got a number (1:25)"]);
    assert.deepEqual(check('{"requiredKeys": "id"}'), ['requiredKeys: expected an array, got a string (1:18)']);
    assert.deepEqual(check('{\n  "requiredKeys": [],\n  "ratio": true\n}'), ["ratio: expected a number, got a boolean (3:12)"]);
    assert.deepEqual(check('{"requiredKeys":[],"limit":1.5}'), ["limit: expected an integer, got a number (1:28)"]);
    assert.deepEqual(check("[1]"), ["expected an object, got an array (1:1)"]);
  });

  it("missing and unknown fields, as Envoy's protobuf JSON parsing refuses unknown ones", () => {
    assert.deepEqual(check("{}"), ["requiredKeys: required field is missing (1:1)"]);
    assert.deepEqual(check('{"requiredKeys":[], "colour":"red"}'), ["colour: unknown field (1:21)"]);
  });

  it("enumerations, integer ranges, maps and nullable nested objects", () => {
    assert.deepEqual(check('{"requiredKeys":[],"mode":"loose"}'), ['mode: expected one of "strict", "lenient", got "loose" (1:27)']);
    assert.deepEqual(check('{"requiredKeys":[],"limit":3000000000}'), ["limit: expected an integer from -2147483648 to 2147483647, got 3000000000 (1:28)"]);
    assert.deepEqual(check('{"requiredKeys":[],"labels":{"a":true,"x-y":1}}'), ['labels["x-y"]: expected a boolean, got a number (1:45)']);
    assert.deepEqual(check('{"requiredKeys":[],"upstream":"auth"}'), ["upstream: expected an object or null, got a string (1:31)"]);
    // The object branch got further: its own problems, not "expected null".
    assert.deepEqual(check('{"requiredKeys":[],"upstream":{"clustr":"auth","timeoutMs":-1}}'), [
      "upstream.cluster: required field is missing (1:31)",
      "upstream.clustr: unknown field (1:32)",
      "upstream.timeoutMs: expected an integer from 0 to 4294967295, got -1 (1:60)",
    ]);
  });

  it("64-bit bounds and big numbers are printed in full, as written", () => {
    const wide = { type: "object", properties: { u: { type: "integer", minimum: 0, maximum: 18446744073709551615 }, i: { type: "integer", minimum: -9223372036854775808, maximum: 9223372036854775807 } } };
    assert.deepEqual(checkPluginConfiguration('{"u":-1,"i":99999999999999999999}', wide), [
      "u: expected an integer from 0 to 18446744073709551615, got -1 (1:6)",
      "i: expected an integer from -9223372036854775808 to 9223372036854775807, got 99999999999999999999 (1:13)",
    ]);
    assert.deepEqual(check(`{"requiredKeys":[],"mode":"${"x".repeat(80)}"}`), [`mode: expected one of "strict", "lenient", got "${"x".repeat(60)}... (1:27)`]);
  });

  it("every problem is listed, at most ten and a count of the rest", () => {
    const many = `{"requiredKeys":[${Array.from({ length: 12 }, (_, i) => i).join(",")}]}`;
    const problems = check(many);
    assert.equal(problems.length, 11);
    assert.equal(problems[0], "requiredKeys[0]: expected a string, got a number (1:18)");
    assert.equal(problems[10], "… and 2 more");
  });

  it("positions are left out when the bytes are not the user's text (JSON made from YAML)", () => {
    assert.deepEqual(checkPluginConfiguration('{"requiredKeys":[1]}', KEYS_SCHEMA as unknown as Record<string, unknown>, { positions: false }), ["requiredKeys[0]: expected a string, got a number"]);
  });

  it("syntax errors carry their position, with or without a schema; empty is not checked; not UTF-8 is refused", () => {
    assert.deepEqual(check('{"requiredKeys":[1,]}'), ["not valid JSON: unexpected character \"]\" (1:20)"]);
    assert.deepEqual(checkPluginConfiguration('{"a":1,\n "b":}', null), ['not valid JSON: unexpected character "}" (2:6)']);
    assert.deepEqual(checkPluginConfiguration("{\"a\": \"tab\there\"}", null), ["not valid JSON: control character in a string (escape it) (1:11)"]);
    assert.deepEqual(checkPluginConfiguration('{"a":1} x', null), ['not valid JSON: unexpected character "x" after the JSON value (1:9)']);
    assert.deepEqual(checkPluginConfiguration("{", null), ["not valid JSON: unexpected end of the text (1:2)"]);
    assert.deepEqual(checkPluginConfiguration('{"a":1}', null), []);
    assert.deepEqual(check("  \n"), []);
    assert.deepEqual(checkPluginConfiguration(new Uint8Array([0x22, 0xc3, 0x22]), null), ["not valid UTF-8, so not JSON"]);
    assert.deepEqual(checkPluginConfiguration(new TextEncoder().encode('{"requiredKeys":["é", 1]}'), KEYS_SCHEMA as unknown as Record<string, unknown>), ["requiredKeys[1]: expected a string, got a number (1:23)"]);
  });

  it("field paths: identifiers dotted, indices bracketed, other keys quoted", () => {
    assert.equal(fieldPath(""), "");
    assert.equal(fieldPath("/a/0/b_c"), "a[0].b_c");
    assert.equal(fieldPath("/x-y/a~1b/t~0"), '["x-y"]["a/b"]["t~"]');
  });

  it("the scanner locates values and keys by JSON pointer, in characters", () => {
    const scan = scanJsonText('{"é":[true, {"k":null}]}');
    assert.equal(scan.error, undefined);
    assert.deepEqual(scan.values.get("/é/1/k"), { line: 1, column: 18 });
    assert.deepEqual(scan.keys.get("/é/1/k"), { line: 1, column: 14 });
  });
});
