// The check every tool runs on a plugin configuration before traffic reaches a filter: against the
// JSON Schema the module carries (module-config-schema.ts) when it declares its configuration, as
// JSON syntax only when it does not. Messages name the field the way the SDK's in-module parser
// does (`requiredKeys[0]: expected a string, got a number (1:18)`), so a user sees the same words
// from `deploy`, `run` and a VM's onConfigure log.

import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { formatPosition, scanJsonText, type JsonTextScan, type TextPosition } from "./json-text-positions";

/** At most this many problems are listed; the rest are counted. */
const MAX_PROBLEMS = 10;

/**
 * The problems of `configuration` (the bytes the filter's onConfigure reads) against `schema`,
 * one line each; empty when it matches. With a null schema only the JSON syntax is checked.
 * Empty text is not checked (no configuration given: the filter's own defaults apply). Bytes
 * that are not UTF-8 are one problem. `positions: false` leaves the (line:column) out, for bytes
 * that are not the text the user wrote (JSON made from a YAML mapping).
 *
 * @throws InvalidConfigSchemaError when `schema` itself is not a valid draft 2020-12 schema (a
 *   broken module build).
 */
export function checkPluginConfiguration(configuration: string | Uint8Array, schema: Record<string, unknown> | null, options: { positions?: boolean } = {}): string[] {
  let text: string;
  if (typeof configuration === "string") text = configuration;
  else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(configuration);
    } catch {
      return ["not valid UTF-8, so not JSON"];
    }
  }
  if (text.trim() === "") return [];
  const scan = scanJsonText(text);
  if (scan.error !== undefined) return [`not valid JSON: ${scan.error.message} ${formatPosition(scan.error.position)}`];
  if (schema === null) return [];
  const value: unknown = JSON.parse(text);
  const validate = compiled(schema);
  if (validate(value)) return [];
  const problems = describeErrors(validate.errors ?? [], value, scan, options.positions !== false);
  return problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more`] : problems;
}

/** Thrown when a module's configuration schema is not a schema ajv can compile; the message says why. */
export class InvalidConfigSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidConfigSchemaError";
  }
}

const cache = new WeakMap<object, ValidateFunction>();
const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true, validateFormats: false });

function compiled(schema: Record<string, unknown>): ValidateFunction {
  let validate = cache.get(schema);
  if (validate === undefined) {
    // A schema may carry its own $id; compile each as a new document so two modules never clash.
    const { $id: _id, ...rest } = schema;
    try {
      validate = ajv.compile(rest);
    } catch (error) {
      throw new InvalidConfigSchemaError(`not a valid JSON Schema (draft 2020-12): ${(error as Error).message}`);
    }
    cache.set(schema, validate);
  }
  return validate;
}

/** A problem found by ajv, in the SDK parser's words: the field it names, the text, and where in the text it is. */
interface Problem {
  /** JSON pointer of the field the message names. */
  field: string;
  text: string;
  /** Position in the configuration text (a missing field: its object's; an unknown one: its key's). */
  at: TextPosition | undefined;
}

/** Ajv's errors in the SDK parser's words, in text order, without the noise of anyOf branches. */
function describeErrors(errors: ErrorObject[], root: unknown, scan: JsonTextScan, showPositions: boolean): string[] {
  // A failed anyOf (a nullable field: `{"anyOf":[{"$ref":…},{"type":"null"}]}`) reports each
  // branch and then itself. Its own error adds nothing; type errors of the branches at one place
  // become one "expected A or B", and are dropped where a branch got further (the value had its
  // type and failed another rule there or deeper).
  const kept = errors.filter((error) => !["anyOf", "oneOf", "if", "allOf"].includes(error.keyword));
  const deeper = (path: string) => kept.some((error) => (error.keyword !== "type" && error.instancePath === path) || error.instancePath.startsWith(`${path}/`));
  const problems: Problem[] = [];
  const typeProblems = new Map<string, { problem: Problem; kinds: string[] }>();
  for (const error of kept) {
    const path = error.instancePath;
    if (error.keyword !== "type") {
      problems.push(describeError(error, root, scan));
      continue;
    }
    if (deeper(path)) continue;
    const kinds = String(error.params.type).split(",").map(kindName);
    const known = typeProblems.get(path);
    if (known !== undefined) {
      for (const kind of kinds) if (!known.kinds.includes(kind)) known.kinds.push(kind);
      continue;
    }
    const problem: Problem = { field: path, text: "", at: scan.values.get(path) };
    typeProblems.set(path, { problem, kinds });
    problems.push(problem);
  }
  for (const [path, { problem, kinds }] of typeProblems) problem.text = `expected ${kinds.join(" or ")}, got ${kindOf(valueAt(root, path))}`;
  // Ajv reports an object's unknown fields before its known ones: the user reads top to bottom.
  const rank = (at: TextPosition | undefined) => (at === undefined ? Number.MAX_SAFE_INTEGER : at.line * 1e9 + at.column);
  const ordered = problems.map((problem, index) => ({ problem, index })).sort((a, b) => rank(a.problem.at) - rank(b.problem.at) || a.index - b.index);
  const lines = ordered.map(({ problem: { field, text, at } }) => `${field === "" ? "" : `${fieldPath(field)}: `}${text}${at === undefined || !showPositions ? "" : ` ${formatPosition(at)}`}`);
  return [...new Set(lines)];
}

function describeError(error: ErrorObject, root: unknown, scan: JsonTextScan): Problem {
  const path = error.instancePath;
  const data = valueAt(root, path);
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const at = scan.values.get(path);
  // As written (all of a number's digits), at most 64 characters, as the SDK parser shows it.
  const written = scan.texts.get(path) ?? JSON.stringify(data) ?? String(data);
  const got = written.length > 64 ? `${written.slice(0, 61)}...` : written;
  switch (error.keyword) {
    case "required":
      return { field: `${path}/${escapePointer(String(error.params.missingProperty))}`, text: "required field is missing", at };
    case "additionalProperties": {
      const field = `${path}/${escapePointer(String(error.params.additionalProperty))}`;
      return { field, text: "unknown field", at: scan.keys.get(field) };
    }
    case "enum":
      return { field: path, text: `expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${got}`, at };
    case "const":
      return { field: path, text: `expected ${JSON.stringify(error.params.allowedValue)}, got ${got}`, at };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      if (schema.type === "integer" && typeof schema.minimum === "number" && typeof schema.maximum === "number") {
        return { field: path, text: `expected an integer from ${bound(schema.minimum)} to ${bound(schema.maximum)}, got ${got}`, at };
      }
      const comparison = { minimum: ">=", maximum: "<=", exclusiveMinimum: ">", exclusiveMaximum: "<" }[error.keyword];
      return { field: path, text: `expected ${schema.type === "integer" ? "an integer" : "a number"} ${comparison} ${bound(error.params.limit as number)}, got ${got}`, at };
    }
    case "minItems":
    case "maxItems":
      return { field: path, text: `expected ${error.keyword === "minItems" ? "at least" : "at most"} ${String(error.params.limit)} item(s), got ${(data as unknown[]).length}`, at };
    case "minLength":
    case "maxLength":
      return { field: path, text: `expected ${error.keyword === "minLength" ? "at least" : "at most"} ${String(error.params.limit)} character(s), got ${got}`, at };
    case "pattern":
      return { field: path, text: `expected a string matching /${String(error.params.pattern)}/, got ${got}`, at };
    default:
      // Rules a declaration does not produce (uniqueItems, dependentRequired, ...): ajv's own words.
      return { field: path, text: error.message ?? `fails the schema's ${error.keyword} rule`, at };
  }
}

/** `/requiredKeys/0` -> `requiredKeys[0]`; `/a/x-y` -> `a["x-y"]`. */
export function fieldPath(pointer: string): string {
  if (pointer === "") return "";
  let out = "";
  for (const step of pointer.slice(1).split("/").map(unescapePointer)) {
    if (/^(0|[1-9]\d*)$/.test(step)) out += `[${step}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(step)) out += out === "" ? step : `.${step}`;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}

function escapePointer(step: string): string {
  return step.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapePointer(step: string): string {
  return step.replace(/~1/g, "/").replace(/~0/g, "~");
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let value = root;
  for (const step of pointer.slice(1).split("/").map(unescapePointer)) value = (value as Record<string, unknown>)?.[step];
  return value;
}

function kindName(type: string): string {
  const names: Record<string, string> = { string: "a string", integer: "an integer", number: "a number", boolean: "a boolean", object: "an object", array: "an array", null: "null" };
  return names[type] ?? type;
}

/** The kind of a JSON value, in the words of the SDK parser (`got a number`). */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return kindName(typeof value);
}

/**
 * A schema's integer bound in full: the 64-bit limits a declaration writes are not doubles, and
 * JSON.parse rounds them (2^64 - 1 to 2^64); they print as the SDK parser prints them.
 */
function bound(value: number): string {
  if (value === 2 ** 64) return "18446744073709551615";
  if (value === 2 ** 63) return "9223372036854775807";
  return Number.isInteger(value) ? BigInt(value).toString() : String(value);
}
