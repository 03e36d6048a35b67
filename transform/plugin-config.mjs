// Part of the SDK's transform (run from proxy-wasm-exports.mjs): typed plugin configuration.
//
// A filter declares its configuration once, as an AssemblyScript class marked `@pluginConfig`
// (fields of string, bool, integer and float types, Array<T>, Map<string, T>, other @pluginConfig
// classes, `T | null`; doc comments; `@enum a|b|c` on a string field; `@additionalFields` on the
// class). From it this file makes, in afterParse:
// - a method `__readConfig<R>(r: R, at: usize): bool` added to each marked class, which reads
//   the JSON value at `at` through the SDK's ConfigReader (assembly/api/plugin_config.ts) and says
//   exactly which field is wrong; parseConfig<T> calls it;
// - the JSON Schema (draft 2020-12) of each marked class, which afterCompile puts into the module
//   as the custom section CONFIG_SCHEMA_SECTION for the class that parseConfig<T> is compiled for.
// The Node side reads that section (src/config/config-schema.ts): the build writes the TypeScript
// type beside the module, and run/deploy/package check configurations against it.
//
// Rules (each refused with a compile error naming the class and field):
// - a field with an initialiser is optional and the initialiser is its default (written into
//   the schema when it is a literal); a nullable field (`T | null`) is optional, default null;
//   any other field is required (reference types then need `!`: `name!: string`);
// - fields are read by their own name; static, private and readonly fields are not configuration;
// - an unknown member is an error, as in Envoy's protobuf JSON parsing, unless the class's doc
//   comment has `@additionalFields`.

import { CommonFlags, LiteralKind, NodeKind, Source, SourceKind, Tokenizer, DiagnosticCode } from "assemblyscript";

/** The name of the custom section that carries the configuration's JSON Schema (minified UTF-8). */
export const CONFIG_SCHEMA_SECTION = "proxy-wasm-as.config-schema";

/**
 * The section the schema goes into instead when the build is asked to write it to a file
 * (`--use PROXY_WASM_AS_CONFIG_SCHEMA_FILE=1`): `proxy-wasm-as build` takes it out of the module
 * and writes `<name>.schema.json` beside `<name>.wasm` (src/cli/commands/build.ts), for a module
 * that must stay small (add_header, within 8 KiB).
 */
export const CONFIG_SCHEMA_FILE_SECTION = "proxy-wasm-as.config-schema.to-file";

/** The `--use` alias (or environment variable) that asks for CONFIG_SCHEMA_FILE_SECTION. */
export const CONFIG_SCHEMA_FILE_SWITCH = "PROXY_WASM_AS_CONFIG_SCHEMA_FILE";

const DECORATOR = "pluginConfig";
const SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

const INTEGERS = {
  i8: [8, true], i16: [16, true], i32: [32, true], i64: [64, true], isize: [32, true],
  u8: [8, false], u16: [16, false], u32: [32, false], u64: [64, false], usize: [32, false],
};
const FLOATS = new Set(["f32", "f64"]);

/** A problem with a declaration: the message names the class and field. */
export class ConfigDeclarationError extends Error {}

// ---------------------------------------------------------------------------------------------
// Reading the declarations

function hasDecorator(node, name) {
  return (node.decorators ?? []).some((d) => d.name.kind === NodeKind.Identifier && d.name.text === name);
}

/** The classes marked @pluginConfig in the parsed sources, with their source. */
export function findDeclarations(sources) {
  const found = [];
  const visit = (statements, source) => {
    for (const statement of statements ?? []) {
      if (statement.kind === NodeKind.ClassDeclaration && hasDecorator(statement, DECORATOR)) found.push({ node: statement, source });
      else if (statement.kind === NodeKind.NamespaceDeclaration) visit(statement.members, source);
    }
  };
  for (const source of sources) {
    if (source.normalizedPath.startsWith("~lib/rt") || source.sourceKind === SourceKind.LibraryEntry) continue;
    visit(source.statements, source);
  }
  return found;
}

/**
 * The doc comment (`/** ... *\/`) right before the text at `start`, skipping blank lines,
 * decorators and line comments (`// @ts-ignore: decorator`), as { text, tags }: text without
 * the stars, tags as name -> value (`@enum a|b` -> enum: "a|b"). Null when there is none.
 */
export function docCommentBefore(text, start) {
  let end = start;
  for (;;) {
    // At the start of the text (a declaration after only blank lines, comments and decorators):
    // nothing before it. lastIndexOf would search from 0 again and find the first line's end.
    if (end <= 0) return null;
    let lineStart = text.lastIndexOf("\n", end - 1) + 1;
    const line = text.slice(lineStart, end).trim();
    if (line === "" || line.startsWith("@") || line.startsWith("//")) {
      if (lineStart === 0) return null;
      end = lineStart - 1;
      continue;
    }
    if (!line.endsWith("*/")) {
      // A comment on the same line as the declaration's start (`/** x */ name: string`).
      const close = text.lastIndexOf("*/", end);
      if (close < 0 || text.slice(close + 2, end).trim() !== "") return null;
    }
    const close = text.lastIndexOf("*/", end);
    const open = text.lastIndexOf("/**", close);
    if (open < 0) return null;
    const body = text.slice(open + 3, close).split("\n").map((l) => l.replace(/^\s*\*?\s?/, "").trimEnd());
    const tags = {};
    const lines = [];
    for (const l of body) {
      const tag = /^@(\w+)\s*(.*)$/.exec(l.trim());
      if (tag) tags[tag[1]] = tag[2].trim();
      else lines.push(l);
    }
    return { text: lines.join("\n").trim(), tags };
  }
}

// A field's title and description from its doc text: one paragraph is the description; with
// more, the first is the title and the rest the description.
function titleAndDescription(doc) {
  if (doc === null || doc.text === "") return {};
  const paragraphs = doc.text.split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, " ").trim()).filter(Boolean);
  if (paragraphs.length === 1) return { description: paragraphs[0] };
  return { title: paragraphs[0], description: paragraphs.slice(1).join("\n\n") };
}

function typeText(node) {
  return node.range.source.text.slice(node.range.start, node.range.end);
}

// The configuration type of a type node: { kind, ... } with kind one of string, bool, integer,
// float, array, map, class; `nullable` for `T | null`.
function readType(node, where, classNames) {
  if (node.kind !== NodeKind.NamedType) throw new ConfigDeclarationError(`${where}: type ${typeText(node)} cannot be configuration`);
  let name = node.name.identifier.text;
  for (let next = node.name.next; next; next = next.next) name += `.${next.identifier.text}`;
  const args = node.typeArguments ?? [];
  const nullable = node.isNullable;
  let type;
  if (name === "string" || name === "String") type = { kind: "string", ts: "string" };
  else if (name === "bool" || name === "boolean") type = { kind: "bool", ts: "bool" };
  else if (name in INTEGERS) type = { kind: "integer", ts: name, bits: INTEGERS[name][0], signed: INTEGERS[name][1] };
  else if (FLOATS.has(name)) type = { kind: "float", ts: name };
  else if ((name === "Array" || name === "StaticArray") && args.length === 1) {
    if (name === "StaticArray") throw new ConfigDeclarationError(`${where}: use Array<T>, not StaticArray<T>`);
    const items = readType(args[0], `${where}[]`, classNames);
    type = { kind: "array", items, ts: `Array<${items.ts}${items.nullable ? " | null" : ""}>` };
  } else if (name === "Map" && args.length === 2) {
    const key = readType(args[0], `${where} key`, classNames);
    if (key.kind !== "string" || key.nullable) throw new ConfigDeclarationError(`${where}: a map's keys must be string`);
    const values = readType(args[1], `${where}{}`, classNames);
    type = { kind: "map", values, ts: `Map<string, ${values.ts}${values.nullable ? " | null" : ""}>` };
  } else if (classNames.has(name) && args.length === 0) type = { kind: "class", name, ts: name };
  else throw new ConfigDeclarationError(`${where}: type ${typeText(node)} cannot be configuration (string, bool, integers, f32/f64, Array<T>, Map<string, T> and @pluginConfig classes can)`);
  if (nullable) {
    if (type.kind !== "string" && type.kind !== "array" && type.kind !== "map" && type.kind !== "class") {
      throw new ConfigDeclarationError(`${where}: ${name} | null is not an AssemblyScript type; give the field a default instead`);
    }
    type.nullable = true;
  }
  return type;
}

// The default written by a literal initialiser, or undefined when it is not one.
function literalDefault(node) {
  if (node === null) return undefined;
  switch (node.kind) {
    case NodeKind.True: return true;
    case NodeKind.False: return false;
    case NodeKind.Null: return null;
    case NodeKind.Literal:
      if (node.literalKind === LiteralKind.String) return node.value;
      if (node.literalKind === LiteralKind.Integer || node.literalKind === LiteralKind.Float) {
        const value = Number(typeText(node).replace(/_/g, ""));
        return Number.isFinite(value) ? value : undefined;
      }
      if (node.literalKind === LiteralKind.Array) {
        const items = node.elementExpressions.map(literalDefault);
        return items.includes(undefined) ? undefined : items;
      }
      return undefined;
    case NodeKind.UnaryPrefix: {
      const value = literalDefault(node.operand);
      return typeof value === "number" && typeText(node).trim().startsWith("-") ? -value : undefined;
    }
    case NodeKind.Assertion:
      return literalDefault(node.expression);
    default:
      return undefined;
  }
}

/** The model of one declared class: name, fields, doc, whether unknown members are allowed. */
function readDeclaration({ node, source }, classNames) {
  const name = node.name.text;
  if (node.extendsType) throw new ConfigDeclarationError(`@pluginConfig ${name}: a configuration class cannot extend another class (declare its fields in it)`);
  const constructor = node.members.find((m) => m.kind === NodeKind.MethodDeclaration && m.name.text === "constructor");
  if (constructor && constructor.signature.parameters.length > 0 && constructor.signature.parameters.some((p) => p.initializer === null)) {
    throw new ConfigDeclarationError(`@pluginConfig ${name}: the parser creates it with \`new ${name}()\`, so its constructor cannot require arguments`);
  }
  const doc = docCommentBefore(source.text, node.range.start);
  const fields = [];
  for (const member of node.members) {
    if (member.kind !== NodeKind.FieldDeclaration) continue;
    if (member.is(CommonFlags.Static) || member.is(CommonFlags.Private)) continue;
    const fieldName = member.name.text;
    const where = `@pluginConfig ${name}.${fieldName}`;
    if (member.is(CommonFlags.Readonly)) throw new ConfigDeclarationError(`${where}: a configuration field cannot be readonly (the parser assigns it)`);
    if (member.type === null) throw new ConfigDeclarationError(`${where}: give the field a type`);
    const type = readType(member.type, where, classNames);
    const fieldDoc = docCommentBefore(source.text, member.range.start);
    const choices = fieldDoc?.tags.enum;
    if (choices !== undefined) {
      if (type.kind !== "string") throw new ConfigDeclarationError(`${where}: @enum is for string fields`);
      type.choices = choices.split("|").map((c) => c.trim().replace(/^"(.*)"$/, "$1")).filter(Boolean);
      if (type.choices.length === 0) throw new ConfigDeclarationError(`${where}: @enum lists no value (write @enum a|b|c)`);
    }
    const initializer = member.initializer ?? null;
    const required = initializer === null && !type.nullable;
    const defaultValue = initializer === null ? (type.nullable ? null : undefined) : literalDefault(initializer);
    if (choices !== undefined && typeof defaultValue === "string" && !type.choices.includes(defaultValue)) {
      throw new ConfigDeclarationError(`${where}: the default "${defaultValue}" is not one of @enum ${choices}`);
    }
    fields.push({ name: fieldName, type, required, defaultValue, doc: fieldDoc });
  }
  return { name, node, source, fields, doc, additionalFields: doc?.tags.additionalFields !== undefined, internalName: `${source.internalPath}/${name}` };
}

// ---------------------------------------------------------------------------------------------
// The generated parser

// The CONFIG_* kind constants of assembly/api/plugin_config.ts, as ConfigReader.expect takes them.
const KIND = { null: 0, bool: 1, number: 2, string: 3, array: 4, object: 5 };

// The zero value a local of `type` starts from (overwritten before use).
function zeroOf(type) {
  if (type.kind === "integer" || type.kind === "float") return `<${type.ts}>0`;
  if (type.kind === "bool") return "false";
  return `changetype<${type.ts}${type.nullable ? " | null" : ""}>(0)`;
}

// Statements that read the value at address expression `at`, which ends at `end` (the name of a
// local the caller measured once: reading a string and stepping past the value both need it),
// into the lvalue `target`, returning false from __readConfig on a mismatch. `ids` numbers the
// locals. With `endOut` (the name of a local) and `end` null, an array or map value is not
// measured before it is read: the code sets `endOut` to its end from its last item (`r.close`),
// so its items are walked once, not also by a measure of the whole container.
function readCode(type, at, end, target, ids, endOut = null) {
  const n = ids.next++;
  // The container's last entry end (`l<n>`, past the opening byte when it is empty), from which
  // r.close finds the closing byte.
  const closing = endOut !== null && (type.kind === "array" || type.kind === "map");
  const first = closing ? ` let l${n}: usize = ${at} + 1;` : "";
  const last = closing ? ` l${n} = ie${n};` : "";
  const lastMember = closing ? ` l${n} = ve${n};` : "";
  const close = closing ? ` ${endOut} = r.close(l${n}, ${type.kind === "array" ? 0x5d : 0x7d});` : "";
  let code;
  switch (type.kind) {
    case "string":
      // fastString only with containers: see ConfigReader.fastString.
      code = `if (!r.expect(${at}, ${KIND.string})) return false; ${target} = r.${ids.containers ? "fastString" : "string"}(${at}, ${end});`;
      if (type.choices) code += ` if (!r.expectOneOf(${at}, ${target}${type.nullable ? "!" : ""}, ${JSON.stringify(type.choices.join("|"))})) return false;`;
      break;
    case "bool":
      code = `if (!r.expect(${at}, ${KIND.bool})) return false; ${target} = r.bool(${at});`;
      break;
    case "integer":
      code = `if (!r.expectInteger(${at}, ${end}, ${type.bits}, ${type.signed})) return false; ${target} = <${type.ts}>r.integer();`;
      break;
    case "float":
      code = `if (!r.expect(${at}, ${KIND.number})) return false; ${target} = <${type.ts}>r.number(${at});`;
      break;
    case "class":
      code = `const o${n} = new ${type.name}(); if (!o${n}.__readConfig<R>(r, ${at})) return false; ${target} = o${n};`;
      break;
    case "array": {
      const item = type.items;
      const itemType = `${item.ts}${item.nullable ? " | null" : ""}`;
      code = `if (!r.expect(${at}, ${KIND.array})) return false; const a${n} = new Array<${itemType}>();${first} ` +
        `for (let i${n} = r.firstItem(${at}); i${n} != 0; ) { const ie${n} = r.fastEnd(i${n}); let e${n}: ${itemType} = ${zeroOf(item)}; ` +
        `${readCode(item, `i${n}`, `ie${n}`, `e${n}`, ids)} a${n}.push(e${n});${last} i${n} = r.fastAfter(ie${n}); } ${target} = a${n};${close}`;
      break;
    }
    case "map": {
      const value = type.values;
      const valueType = `${value.ts}${value.nullable ? " | null" : ""}`;
      code = `if (!r.expect(${at}, ${KIND.object})) return false; const m${n} = new Map<string, ${valueType}>();${first} ` +
        `for (let k${n} = r.firstMember(${at}); k${n} != 0; ) { const v${n} = r.fastValueAfter(r.skipKey(k${n})); const ve${n} = r.fastEnd(v${n}); let e${n}: ${valueType} = ${zeroOf(value)}; ` +
        `${readCode(value, `v${n}`, `ve${n}`, `e${n}`, ids)} m${n}.set(r.key(k${n}), e${n});${lastMember} k${n} = r.fastAfter(ve${n}); } ${target} = m${n};${close}`;
      break;
    }
    default:
      throw new Error(`unknown kind ${type.kind}`);
  }
  if (type.nullable && closing) return `if (r.isNull(${at})) { ${target} = null; ${endOut} = r.fastEnd(${at}); } else { ${code} }`;
  if (type.nullable) return `if (r.isNull(${at})) ${target} = null; else { ${code} }`;
  return code;
}

// True if a field of the declared class is an array or a map.
function hasContainers(declaration) {
  return declaration.fields.some((field) => field.type.kind === "array" || field.type.kind === "map");
}

/** The source text of the `__readConfig` method of a declared class; `containers`: see below. */
export function readerMethodText(declaration, containers = hasContainers(declaration)) {
  const ids = { next: 0, containers };
  const required = declaration.fields.filter((f) => f.required);
  // With `containers` (a class of the module has an array or map field) each value is measured in
  // its branch instead of before the chain, so that a container is measured by reading it
  // (r.close after its last item), not by a walk of its whole text first. A module without one
  // keeps the smaller shape (one r.end(v) before the chain). Measuring validates (r.end, r.skipKey,
  // r.valueAfter, r.after and r.close check what they step over): the reader is the only pass
  // over the text (assembly/api/plugin_config.ts).
  const branches = declaration.fields.map((field) => {
    const bit = required.indexOf(field);
    const mark = bit >= 0 ? `seen |= ${1n << BigInt(bit)}; ` : "";
    const own = containers && (field.type.kind === "array" || field.type.kind === "map");
    const measure = containers && !own ? "e = r.fastEnd(v); " : "";
    return `if (r.${containers ? "fastKeyIs" : "keyIs"}(k, ke, ${JSON.stringify(field.name)})) { ${mark}${measure}${readCode(field.type, "v", own ? null : "e", `this.${field.name}`, ids, own ? "e" : null)} }`;
  });
  const otherwise = declaration.additionalFields ? (containers ? "e = r.fastEnd(v);" : "") : "return r.unknown(k);";
  const chain = branches.length === 0 ? otherwise : `${branches.join(" else ")}${otherwise ? ` else ${otherwise}` : ""}`;
  const missing = required.map((field, bit) => `if ((seen & ${1n << BigInt(bit)}) == 0) return r.missing(at, ${JSON.stringify(field.name)});`);
  return [
    `__readConfig<R>(r: R, at: usize): bool {`,
    `  if (!r.expect(at, ${KIND.object})) return false;`,
    required.length > 0 ? `  let seen: u64 = 0;` : "",
    // Each key and value is measured once (r.skipKey, r.end): comparing the key with each field name,
    // finding the value, reading a string and stepping to the next member (r.after) all use
    // those ends, where nextMember(k) would measure key and value again.
    `  for (let k = r.firstMember(at); k != 0; ) {`,
    `    const ke = r.skipKey(k);`,
    `    const v = r.${containers ? "fastValueAfter" : "valueAfter"}(ke);`,
    containers ? `    let e: usize = 0;` : `    const e = r.end(v);`,
    `    ${chain}`,
    `    k = r.${containers ? "fastAfter" : "after"}(e);`,
    `  }`,
    ...missing.map((line) => `  ${line}`),
    `  return true;`,
    `}`,
  ].filter(Boolean).join("\n");
}

// ---------------------------------------------------------------------------------------------
// The schema

// `rootName`: the root class is the schema itself, so a field of its type refers to "#".
function schemaOfType(type, rootName) {
  let schema;
  switch (type.kind) {
    case "string":
      schema = { type: "string" };
      if (type.choices) schema.enum = type.choices;
      break;
    case "bool":
      schema = { type: "boolean" };
      break;
    case "integer": {
      const low = type.signed ? -(1n << BigInt(type.bits - 1)) : 0n;
      const high = type.signed ? (1n << BigInt(type.bits - 1)) - 1n : (1n << BigInt(type.bits)) - 1n;
      schema = { type: "integer", minimum: low, maximum: high };
      break;
    }
    case "float":
      schema = { type: "number" };
      break;
    case "array":
      schema = { type: "array", items: schemaOfType(type.items, rootName) };
      break;
    case "map":
      schema = { type: "object", additionalProperties: schemaOfType(type.values, rootName) };
      break;
    case "class":
      schema = { $ref: type.name === rootName ? "#" : `#/$defs/${type.name}` };
      break;
  }
  if (!type.nullable) return schema;
  if (schema.$ref) return { anyOf: [schema, { type: "null" }] };
  return { ...schema, type: [schema.type, "null"] };
}

function schemaOfClass(declaration, rootName) {
  const properties = {};
  for (const field of declaration.fields) {
    const schema = { ...titleAndDescription(field.doc), ...schemaOfType(field.type, rootName) };
    if (field.defaultValue !== undefined) schema.default = field.defaultValue;
    properties[field.name] = schema;
  }
  // A class's title is its name (the root's, on the schema; a nested one's, its $defs key), so
  // its whole doc comment is the description.
  const description = declaration.doc?.text ? declaration.doc.text.split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, " ").trim()).join("\n\n") : undefined;
  const schema = { description, type: "object", properties };
  const required = declaration.fields.filter((f) => f.required).map((f) => f.name);
  if (required.length > 0) schema.required = required;
  if (!declaration.additionalFields) schema.additionalProperties = false;
  return schema;
}

// The classes reachable from `root` through fields, root first.
function reachable(root, byName) {
  const seen = new Map([[root.name, root]]);
  const visit = (type) => {
    if (type.kind === "class" && !seen.has(type.name)) {
      const declaration = byName.get(type.name);
      seen.set(type.name, declaration);
      declaration.fields.forEach((f) => visit(f.type));
    } else if (type.kind === "array") visit(type.items);
    else if (type.kind === "map") visit(type.values);
  };
  root.fields.forEach((f) => visit(f.type));
  return [...seen.values()];
}

/** The JSON Schema of the configuration whose root class is `root`, as an object. */
export function configSchema(root, byName) {
  const [, ...nested] = reachable(root, byName);
  const schema = { $schema: SCHEMA_DIALECT, title: root.name, ...schemaOfClass(root, root.name) };
  if (nested.length > 0) schema.$defs = Object.fromEntries(nested.map((d) => [d.name, schemaOfClass(d, root.name)]));
  return schema;
}

/** JSON text of `value`, minified; bigints are written as JSON integers. */
export function minifiedJson(value) {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(minifiedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${minifiedJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// The transform's two steps

/**
 * afterParse: adds `__readConfig` to every @pluginConfig class of the parsed sources and returns
 * the declarations (by internal class name) for afterCompile. A declaration problem is reported
 * as a compile error at the field (`emitError`), and the class gets no reader.
 */
export function addConfigReaders(parser, reportError) {
  const found = findDeclarations(parser.sources);
  if (found.length === 0) return new Map();
  const classNames = new Set(found.map(({ node }) => node.name.text));
  // Classes are found by their simple name (in field types and in the schema's $defs).
  const seenNames = new Map();
  for (const entry of found) {
    const other = seenNames.get(entry.node.name.text);
    if (other) reportError(entry.node.range, `@pluginConfig ${entry.node.name.text}: another @pluginConfig class has this name (${other.source.normalizedPath}); give each a different name`);
    else seenNames.set(entry.node.name.text, entry);
  }
  const declarations = new Map();
  const byName = new Map();
  const read = [];
  for (const entry of found) {
    try {
      read.push({ entry, declaration: readDeclaration(entry, classNames) });
    } catch (error) {
      if (!(error instanceof ConfigDeclarationError)) throw error;
      reportError(entry.node.range, error.message);
    }
  }
  // One shape for every reader of the module: when one class has an array or map field, nested
  // classes without one measure their values in the branches too.
  const containers = read.some(({ declaration }) => hasContainers(declaration));
  for (const { entry, declaration } of read) {
    const text = readerMethodText(declaration, containers);
    const tokenizer = new Tokenizer(new Source(entry.source.sourceKind, entry.source.normalizedPath, text));
    const member = parser.parseClassMember(tokenizer, entry.node);
    if (member === null) {
      reportError(entry.node.range, `@pluginConfig ${declaration.name}: the generated reader does not parse:\n${text}`);
      continue;
    }
    entry.node.members.push(member);
    declarations.set(declaration.internalName, declaration);
    byName.set(declaration.name, declaration);
  }
  for (const declaration of declarations.values()) declaration.byName = byName;
  return declarations;
}

/**
 * afterCompile: the schema of the class parseConfig<T> was compiled for, as minified JSON, or
 * null when the module reads no declared configuration. Several such classes: the first, with
 * a warning through `warn`.
 */
export function schemaForModule(declarations, functionNames, warn) {
  if (declarations.size === 0) return null;
  const roots = [];
  for (const name of functionNames) {
    const match = /\/parseConfig<(.+)>$/.exec(name);
    if (match && declarations.has(match[1]) && !roots.includes(match[1])) roots.push(match[1]);
  }
  if (roots.length === 0) return null;
  if (roots.length > 1) warn(`parseConfig is used with ${roots.length} classes (${roots.join(", ")}); the module's schema is the first one's`);
  const root = declarations.get(roots[0]);
  return minifiedJson(configSchema(root, root.byName));
}

export { DiagnosticCode };
