// Typed plugin configuration (transform/plugin-config.mjs, assembly/api/plugin_config.ts): a
// class marked @pluginConfig, built as a user builds it, gets a reader whose failures name the
// field path, the problem and the position; the module carries the class's JSON Schema in the
// custom section proxy-wasm-as.config-schema, and the build writes its TypeScript type.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { CONFIG_SCHEMA_SECTION, readConfigSchema } from "../../src/config/config-schema";
import { CONFIG_SCHEMA_FILE_SECTION } from "../../src/config/module-config-schema";
import { createTestHost, type TestHostOptions } from "../../src/testing";
import { EVERY_FIELD_DECLARATION } from "../helpers/config-declaration";
import { buildFilterSource, type BuiltFilter } from "../helpers/filter-build";
import { userProject } from "../helpers/user-project";
// @ts-expect-error: plain JavaScript module without types
import { configSchema, docCommentBefore, minifiedJson } from "../../transform/plugin-config.mjs";

const project = userProject("pwas-config-");

const PRELUDE = [
  'import { RootContext, registerDefaultRoot, parseConfig, configError, log } from "proxy-wasm-as/assembly";',
  'export * from "proxy-wasm-as/assembly/exports";',
  "",
].join("\n");

// A configuration with every kind of field. onConfigure logs what it read (or the error) and
// accepts, so that one module answers for many configurations.
const DECLARED = EVERY_FIELD_DECLARATION + `
class Root extends RootContext {
  onConfigure(size: u32): bool {
    const config = parseConfig<Config>(this.pluginConfiguration());
    if (config === null) log.error("bad: " + configError());
    else log.info("ok: " + show(config));
    return true;
  }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`;

type Built = BuiltFilter;

function build(name: string, source: string, options: { debug?: boolean } = {}): Promise<Built> {
  return buildFilterSource(project, name, PRELUDE + source, options);
}

/** What onConfigure logged for `config` (raw bytes as given). */
function configure(wasm: Uint8Array, config: string): string {
  const host = createTestHost({ wasm, pluginConfig: Buffer.from(config) });
  return host.logs.messages.join("\n");
}

describe("a @pluginConfig class", () => {
  let declared: Built;
  before(async () => {
    declared = await build("declared", DECLARED);
    assert.ok(declared.ok, declared.stderr);
  });

  it("reads every kind of field, with defaults for the absent ones", () => {
    assert.equal(configure(declared.wasm, ""), "ok: keys= limit=10 big=0 small=-1 enabled=false name=null rules=[] labels={} first=null ratio=0.5");
    assert.equal(configure(declared.wasm, " {} "), "ok: keys= limit=10 big=0 small=-1 enabled=false name=null rules=[] labels={} first=null ratio=0.5");
    const full = JSON.stringify({
      requiredKeys: ["a", "é\u2713"], limit: 4294967295, big: (-9223372036854775808n).toString(), small: -128, enabled: true, name: "n",
      rules: [{ header: "h", mode: "prefix", weight: 2 }, { header: "x" }], labels: { a: 1, "x-id": -2 }, first: { header: "f" }, ratio: 0.25,
    }).replace('"-9223372036854775808"', "-9223372036854775808");
    assert.equal(configure(declared.wasm, full), "ok: keys=a,é✓ limit=4294967295 big=-9223372036854775808 small=-128 enabled=true name=n rules=[h/prefix/2.0,x/exact/1.5] labels={a=1,x-id=-2} first=f ratio=0.25");
    // Arrays and maps are measured from their last entry (r.close): spaces around and inside
    // them, empty ones, and members after them.
    const spaced = '{ "requiredKeys" : [ "a" , "b" ] ,\n "labels" : { "a" : 1 , "b" : 2 } , "rules" : [ ] , "first" : { "header" : "f" } ,\n' +
      ' "limit" : 3 , "name" : "n" }';
    assert.equal(configure(declared.wasm, spaced), "ok: keys=a,b limit=3 big=0 small=-1 enabled=false name=n rules=[] labels={a=1,b=2} first=f ratio=0.5");
    assert.equal(configure(declared.wasm, '{"labels": { }, "rules": [{"header": "h"} ], "requiredKeys": [\t], "limit": 4}'), "ok: keys= limit=4 big=0 small=-1 enabled=false name=null rules=[h/exact/1.5] labels={} first=null ratio=0.5");
    // Keys, strings and items measured (r.skipKey, r.end): escaped quotes and
    // backslashes do not end them.
    assert.equal(configure(declared.wasm, String.raw`{"requiredKeys": ["a\"b", "c\\", "\u0022"], "name": "q\"", "labels": {"x\"y": 1}, "lim\u0069t": 2}`),
      String.raw`ok: keys=a"b,c\," limit=2 big=0 small=-1 enabled=false name=q" rules=[] labels={x"y=1} first=null ratio=0.5`);
    // Objects in items and fields measured by their brackets (r.end): brackets and escaped
    // quotes inside strings do not count.
    assert.equal(configure(declared.wasm, String.raw`{"rules": [{"header": "[{\"x\\"}, {"header": "}]"}], "first": {"header": "a]}\"{", "mode": "prefix"}, "limit": 5}`),
      String.raw`ok: keys= limit=5 big=0 small=-1 enabled=false name=null rules=[[{"x\/exact/1.5,}]/exact/1.5] labels={} first=a]}"{ ratio=0.5`);
    assert.equal(configure(declared.wasm, '{"name": null, "first": null, "big": 9223372036854775807}'), "ok: keys= limit=10 big=9223372036854775807 small=-1 enabled=false name=null rules=[] labels={} first=null ratio=0.5");
  });

  it("names the field path, the problem and the position of a wrong value", () => {
    const cases: [string, string][] = [
      ['{"requiredKeys":[1]}', "requiredKeys[0]: expected a string, got a number (1:18)"],
      ['{"requiredKeys": "a"}', "requiredKeys: expected an array, got a string (1:18)"],
      ['{"limit":-1}', "limit: expected an integer from 0 to 4294967295, got -1 (1:10)"],
      ['{"limit":1.5}', "limit: expected an integer from 0 to 4294967295, got 1.5 (1:10)"],
      ['{"limit":1e3}', "limit: expected an integer from 0 to 4294967295, got 1e3 (1:10)"],
      ['{"limit":4294967296}', "limit: expected an integer from 0 to 4294967295, got 4294967296 (1:10)"],
      ['{"limit":"3"}', "limit: expected an integer from 0 to 4294967295, got a string (1:10)"],
      ['{"small":128}', "small: expected an integer from -128 to 127, got 128 (1:10)"],
      ['{"big":9223372036854775808}', "big: expected an integer from -9223372036854775808 to 9223372036854775807, got 9223372036854775808 (1:8)"],
      ['{"big":99999999999999999999999}', "big: expected an integer from -9223372036854775808 to 9223372036854775807, got 99999999999999999999999 (1:8)"],
      ['{"enabled":1}', "enabled: expected a boolean, got a number (1:12)"],
      ['{"enabled":null}', "enabled: expected a boolean, got null (1:12)"],
      ['{"ratio":"x"}', "ratio: expected a number, got a string (1:10)"],
      ['{"name":true}', "name: expected a string, got a boolean (1:9)"],
      ['{"rules":[{}]}', "rules[0].header: required field is missing (1:11)"],
      ['{"rules":[{"header":"a"},\n  {"header":"b","mode":"x"}]}', 'rules[1].mode: expected one of "exact", "prefix", got "x" (2:24)'],
      ['{"rules":[{"header":"a"},{"header":"b","weight":"w"}]}', "rules[1].weight: expected a number, got a string (1:49)"],
      ['{"labels":{"x-id":"s"}}', 'labels["x-id"]: expected an integer from -2147483648 to 2147483647, got a string (1:19)'],
      ['{"labels":[]}', "labels: expected an object, got an array (1:11)"],
      ['{"requiredKeys": [ "a" ] , "labels": { "b": 1 } , "limit": "x"}', "limit: expected an integer from 0 to 4294967295, got a string (1:60)"],
      ['{"first":{"header":"a","extra":1}}', "first.extra: unknown field (1:24)"],
      ['{"colour":1}', "colour: unknown field (1:2)"],
      ['{"first":7}', "first: expected an object, got a number (1:10)"],
      ["[]", "expected an object, got an array (1:1)"],
      ['{"a":', "unexpected end of JSON (1:6)"],
      [" ", "unexpected end of JSON (1:2)"],
      ['{"name": "\\q"}', "invalid escape in a string (1:11)"],
    ];
    for (const [config, message] of cases) assert.equal(configure(declared.wasm, config), `bad: ${message}`, config);
  });

  it("refuses invalid UTF-8 in a string", () => {
    const host = createTestHost({ wasm: declared.wasm, pluginConfig: Buffer.concat([Buffer.from('{"name": "a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) });
    assert.equal(host.logs.messages.join("\n"), "bad: invalid UTF-8 in a string (1:12)");
  });

  it("refuses a number written with a leading zero, which is not JSON", () => {
    assert.equal(configure(declared.wasm, '{"limit": 01}'), "bad: unexpected character '1' (1:12)");
    assert.equal(configure(declared.wasm, '{"limit": 0, "ratio": 0.05}'), "ok: keys= limit=0 big=0 small=-1 enabled=false name=null rules=[] labels={} first=null ratio=0.05");
  });

  it("carries its JSON Schema in the module, and the build writes its TypeScript type", () => {
    const module = new WebAssembly.Module(declared.wasm as Uint8Array<ArrayBuffer>);
    const [section] = WebAssembly.Module.customSections(module, CONFIG_SCHEMA_SECTION);
    const text = new TextDecoder().decode(section);
    assert.ok(!/\s\s|\n/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, "")), "minified");
    assert.deepEqual(readConfigSchema(declared.wasm), {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "Config",
      description: "Test configuration.\n\nEverything a test needs.",
      type: "object",
      properties: {
        requiredKeys: { description: "Keys every body needs.", type: "array", items: { type: "string" }, default: [] },
        limit: { type: "integer", minimum: 0, maximum: 4294967295, default: 10 },
        big: { type: "integer", minimum: -9223372036854775808, maximum: 9223372036854775807, default: 0 },
        small: { type: "integer", minimum: -128, maximum: 127, default: -1 },
        enabled: { type: "boolean", default: false },
        name: { type: ["string", "null"], default: null },
        rules: { type: "array", items: { $ref: "#/$defs/Rule" }, default: [] },
        labels: { type: "object", additionalProperties: { type: "integer", minimum: -2147483648, maximum: 2147483647 } },
        first: { anyOf: [{ $ref: "#/$defs/Rule" }, { type: "null" }], default: null },
        ratio: { type: "number", default: 0.5 },
      },
      additionalProperties: false,
      $defs: {
        Rule: {
          description: "One rule.",
          type: "object",
          properties: {
            header: { description: "The header to match.", type: "string" },
            mode: { type: "string", enum: ["exact", "prefix"], default: "exact" },
            weight: { type: "number", default: 1.5 },
          },
          required: ["header"],
          additionalProperties: false,
        },
      },
    });
    // 64-bit bounds are written exactly, not rounded as a double would print them.
    assert.match(text, /"minimum":-9223372036854775808,"maximum":9223372036854775807/);
    assert.match(declared.stdout, new RegExp(`\\n {2}configuration: Config \\(schema \\d+ bytes\\), types in ${join("build", "declared.config.d.ts").replace(/\./g, "\\.")}\\n$`));
    const types = readFileSync(join(project, "build", "declared.config.d.ts"), "utf8");
    assert.match(types, /^\/\/ Generated by proxy-wasm-as build/);
    assert.match(types, /\/\*\*\n \* Test configuration\.\n \*\n \* Everything a test needs\.\n \*\/\nexport interface Config \{\n/);
    assert.match(types, /\n {2}\/\*\*\n {3}\* Keys every body needs\.\n {3}\*\n {3}\* @default \[\]\n {3}\*\/\n {2}requiredKeys\?: string\[\];\n/);
    assert.match(types, /\n {2}labels\?: \{ \[key: string\]: number \};\n/);
    assert.match(types, /\n {2}first\?: Rule \| null;\n/);
    assert.match(types, /\nexport interface Rule \{\n {2}\/\*\* The header to match\. \*\/\n {2}header: string;\n {2}\/\*\* @default "exact" \*\/\n {2}mode\?: "exact" \| "prefix";\n/);
    assert.match(types, /\nexport type PluginConfig = Config;\n$/);
  });

  it("keeps its schema through the release optimiser; a filter without parseConfig carries none", async () => {
    const release = await build("declared_release", DECLARED, { debug: false });
    assert.ok(release.ok, release.stderr);
    assert.equal(readConfigSchema(release.wasm)?.title, "Config");
    assert.equal(configure(release.wasm, '{"requiredKeys":[1]}'), "bad: requiredKeys[0]: expected a string, got a number (1:18)");
    // Declared but never read: no schema, no type file (an earlier one is removed).
    writeFileSync(join(project, "build", "unread.config.d.ts"), readFileSync(join(project, "build", "declared.config.d.ts")));
    const unread = await build("unread", DECLARED.replace("parseConfig<Config>(this.pluginConfiguration())", "changetype<Config | null>(0)"));
    assert.ok(unread.ok, unread.stderr);
    assert.equal(readConfigSchema(unread.wasm), null);
    assert.equal(existsSync(join(project, "build", "unread.config.d.ts")), false);
    assert.doesNotMatch(unread.stdout, /configuration:/);
  });

  it("with PROXY_WASM_AS_CONFIG_SCHEMA_FILE writes the schema beside the module instead of into it; a later build with the section removes that file", async () => {
    const sectionBuild = await build("beside", DECLARED, { debug: false });
    assert.ok(sectionBuild.ok, sectionBuild.stderr);
    process.env.PROXY_WASM_AS_CONFIG_SCHEMA_FILE = "1";
    let fileBuild: Built;
    try {
      // A different source, so the build is not skipped as up to date.
      fileBuild = await build("beside", `${DECLARED}\n// schema in a file\n`, { debug: false });
    } finally {
      delete process.env.PROXY_WASM_AS_CONFIG_SCHEMA_FILE;
    }
    assert.ok(fileBuild.ok, fileBuild.stderr);
    const schemaFile = join(project, "build", "beside.schema.json");
    const module = new WebAssembly.Module(new Uint8Array(fileBuild.wasm));
    assert.deepEqual(WebAssembly.Module.customSections(module, CONFIG_SCHEMA_SECTION), []);
    assert.deepEqual(WebAssembly.Module.customSections(module, CONFIG_SCHEMA_FILE_SECTION), []);
    assert.equal(fileBuild.wasm.length, sectionBuild.wasm.length - (readFileSync(schemaFile).length + CONFIG_SCHEMA_SECTION.length + 4));
    assert.deepEqual(JSON.parse(readFileSync(schemaFile, "utf8")), readConfigSchema(sectionBuild.wasm));
    assert.deepEqual(readConfigSchema(fileBuild.wasm, join(project, "build", "beside.wasm")), readConfigSchema(sectionBuild.wasm));
    assert.match(fileBuild.stdout, new RegExp(`configuration: Config \\(schema \\d+ bytes in ${join("build", "beside.schema.json").replace(/\./g, "\\.")}\\), types in `));
    assert.match(readFileSync(join(project, "build", "beside.config.d.ts"), "utf8"), /\nexport interface Config \{\n/);
    const again = await build("beside", DECLARED, { debug: false });
    assert.ok(again.ok, again.stderr);
    assert.equal(existsSync(schemaFile), false);
    assert.equal(readConfigSchema(again.wasm)?.title, "Config");
  });

  it("allows unknown fields with @additionalFields", async () => {
    const open = await build("open", DECLARED.replace(" * Everything a test needs.\n", " * Everything a test needs.\n * @additionalFields\n"));
    assert.ok(open.ok, open.stderr);
    assert.equal(configure(open.wasm, '{"colour": [1, {"x": 2}], "limit": 3}'), "ok: keys= limit=3 big=0 small=-1 enabled=false name=null rules=[] labels={} first=null ratio=0.5");
    assert.equal(configure(open.wasm, '{"first": {"header": "a", "extra": 1}}'), "bad: first.extra: unknown field (1:27)");
    const schema = readConfigSchema(open.wasm)!;
    assert.equal(schema.additionalProperties, undefined);
    assert.equal(schema.$defs!.Rule.additionalProperties, false);
  });

  it("refuses a declaration the parser cannot read, naming the class and field", async () => {
    const cases: [string, RegExp][] = [
      ["  weight: f64 = 1.5;", /@pluginConfig Rule\.weight: type Date cannot be configuration/],
      ["  /** @enum exact|prefix */\n  mode: string = \"exact\";", /@pluginConfig Rule\.mode: the default "exact" is not one of @enum a\|b/],
      ["  header!: string;", /@pluginConfig Rule\.header: a configuration field cannot be readonly/],
    ];
    const replacements = ["  weight: Date = new Date(0);", "  /** @enum a|b */\n  mode: string = \"exact\";", "  readonly header!: string;"];
    cases.push(["  weight: f64 = 1.5;", /@pluginConfig Rule: the parser creates it with `new Rule\(\)`, so its constructor cannot require arguments/]);
    replacements.push("  weight: f64 = 1.5;\n  constructor(weight: f64) { this.weight = weight; }");
    cases.push(["/** One rule. */\n// @ts-ignore: decorator\n@pluginConfig\nclass Rule {", /@pluginConfig Rule: a configuration class cannot extend another class/]);
    replacements.push("class Base {}\n/** One rule. */\n// @ts-ignore: decorator\n@pluginConfig\nclass Rule extends Base {");
    for (let i = 0; i < cases.length; i++) {
      const [original, message] = cases[i];
      assert.ok(DECLARED.includes(original), original);
      const built = await build(`refused_${i}`, DECLARED.replace(original, replacements[i]));
      assert.equal(built.ok, false);
      assert.match(built.stdout + built.stderr, message);
    }
  });
});

describe("the test kit's configuration option typed by the declared type", () => {
  it("accepts a matching configuration and refuses a mistyped one at compile time", () => {
    interface Typed {
      limit?: number;
      name?: string | null;
    }
    const wasm = new Uint8Array();
    const good: TestHostOptions<Typed> = { wasm, pluginConfig: { limit: 3, name: null } };
    // @ts-expect-error: limit is a number
    const mistyped: TestHostOptions<Typed> = { wasm, pluginConfig: { limit: "3" } };
    // @ts-expect-error: no such field
    const unknown: TestHostOptions<Typed> = { wasm, pluginConfig: { colour: "red" } };
    // Bytes and text stay accepted as they are.
    const text: TestHostOptions<Typed> = { wasm, pluginConfig: "{}" };
    assert.deepEqual([good.pluginConfig, mistyped.pluginConfig, unknown.pluginConfig, text.pluginConfig], [{ limit: 3, name: null }, { limit: "3" }, { colour: "red" }, "{}"]);
  });
});

describe("the transform's helpers", () => {
  it("finds the doc comment above a declaration, past decorators and line comments, with its tags", () => {
    const text = "/**\n * First.\n *\n * Second line\n * @enum a|b\n */\n// @ts-ignore: decorator\n@pluginConfig\nclass A {}";
    assert.deepEqual(docCommentBefore(text, text.indexOf("@pluginConfig")), { text: "First.\n\nSecond line", tags: { enum: "a|b" } });
    assert.equal(docCommentBefore("x: i32;\ny: i32;", 8), null);
    assert.deepEqual(docCommentBefore("  /** One. */ y: i32;", 14), { text: "One.", tags: {} });
    // A declaration after a blank first line and its decorator only: none (this once looped
    // forever, and the build with it).
    const first = "\n// @ts-ignore: decorator\n@pluginConfig\nclass A {}";
    assert.equal(docCommentBefore(first, first.indexOf("class")), null);
    assert.equal(docCommentBefore("\n\nclass A {}", 2), null);
  });

  it("refers to the root class as the schema itself and to nested classes under $defs, cycles included", () => {
    const tree = { name: "Tree", doc: null, additionalFields: false, fields: [] as object[] };
    const leaf = { name: "Leaf", doc: null, additionalFields: true, fields: [] as object[] };
    tree.fields.push(
      { name: "children", type: { kind: "array", items: { kind: "class", name: "Tree" } }, required: false, defaultValue: [], doc: null },
      { name: "leaf", type: { kind: "class", name: "Leaf", nullable: true }, required: false, defaultValue: null, doc: null },
    );
    leaf.fields.push({ name: "parent", type: { kind: "class", name: "Tree" }, required: true, defaultValue: undefined, doc: null });
    const byName = new Map([["Tree", tree], ["Leaf", leaf]]);
    assert.deepEqual(configSchema(tree, byName), {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "Tree",
      description: undefined,
      type: "object",
      properties: {
        children: { type: "array", items: { $ref: "#" }, default: [] },
        leaf: { anyOf: [{ $ref: "#/$defs/Leaf" }, { type: "null" }], default: null },
      },
      additionalProperties: false,
      $defs: { Leaf: { description: undefined, type: "object", properties: { parent: { $ref: "#" } }, required: ["parent"] } },
    });
  });

  it("writes minified JSON with exact big integers", () => {
    assert.equal(minifiedJson({ a: [1, "x", null, true], b: -(1n << 63n), c: undefined }), '{"a":[1,"x",null,true],"b":-9223372036854775808}');
  });
});
