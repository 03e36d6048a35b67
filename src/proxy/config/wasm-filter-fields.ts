import { isAbsolute, resolve } from "node:path";
import { ConfigError, parseFailurePolicy, type FailurePolicy } from "./dev-proxy-config";
import type { ConfigReader } from "./config-reader";

/**
 * Turns an Envoy `google.protobuf.Any` configuration into the bytes the filter reads, as Envoy
 * does (ABI §4.3): StringValue -> its text, BytesValue -> its base64-decoded bytes, Struct -> JSON.
 * A plain string (the dev proxy's own format) is taken as is; a plain mapping becomes JSON.
 */
export function configurationBytes(value: unknown, where: string, warnings: string[]): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value === "string") return Buffer.from(value);
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`${where}: expected a string or a google.protobuf.Any mapping`);
  }
  const any = value as Record<string, unknown>;
  const type = any["@type"];
  if (type === undefined) return Buffer.from(JSON.stringify(value));
  const inner = any.value;
  switch (String(type).replace(/^.*\//, "")) {
    case "google.protobuf.StringValue":
      return Buffer.from(inner === undefined ? "" : String(inner));
    case "google.protobuf.BytesValue":
      return Buffer.from(inner === undefined ? "" : String(inner), "base64");
    case "google.protobuf.Struct":
      return Buffer.from(JSON.stringify(inner ?? {}));
    default: {
      warnings.push(`${where}: configuration type ${String(type)} is not supported (use StringValue, BytesValue or Struct); the filter gets it as JSON`);
      const rest = { ...any };
      delete rest["@type"];
      return Buffer.from(JSON.stringify(rest));
    }
  }
}

/**
 * True when configurationBytes gives `value`'s text as the user wrote it (a string, a
 * StringValue), so positions in the bytes are positions in the user's text; false for JSON made
 * from a mapping or Struct, and for base64-decoded BytesValue.
 */
export function configurationIsText(value: unknown): boolean {
  if (typeof value === "string") return true;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  return String((value as Record<string, unknown>)["@type"] ?? "").replace(/^.*\//, "") === "google.protobuf.StringValue";
}

export function failurePolicyOf(reader: ConfigReader, key: string, failOpen: boolean | undefined): FailurePolicy {
  const text = reader.string(key);
  if (text === undefined) return failOpen ? "FAIL_OPEN" : "FAIL_CLOSED";
  const policy = parseFailurePolicy(text);
  if (policy === undefined) {
    throw new ConfigError(`${reader.at(key)}: unknown failure policy "${text}" (FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD)`);
  }
  return policy;
}

/** A module path as Envoy resolves `code.local.filename`: relative to the working directory. */
export function wasmPathOf(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
