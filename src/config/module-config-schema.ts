// Where a module's plugin-configuration schema comes from, for the tools that check a
// configuration before traffic (run, deploy). The SDK's build transform writes the JSON Schema of
// the declared configuration class into a custom section, so the schema travels inside the .wasm
// (and so inside every image built from it); a build that keeps the module small may write it
// to a file beside the module instead (`<module>.schema.json`). The section wins when both exist.

import { existsSync, readFileSync } from "node:fs";

/** The custom section that carries the configuration's JSON Schema (UTF-8 JSON, draft 2020-12). */
export const CONFIG_SCHEMA_SECTION_NAME = "proxy-wasm-as.config-schema";

/** A module's configuration schema and where it was read from (for messages). */
export interface ModuleConfigSchema {
  schema: Record<string, unknown>;
  /** `custom section proxy-wasm-as.config-schema` or the path of the file beside the module. */
  source: string;
}

/** Thrown when a module carries a schema that is not a JSON object (a broken build). */
export class ConfigSchemaReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigSchemaReadError";
  }
}

/** The file beside `wasmPath` a build may write the schema to: `x.wasm` -> `x.schema.json`. */
export function configSchemaFilePath(wasmPath: string): string {
  return `${wasmPath.replace(/\.wasm$/, "")}.schema.json`;
}

/**
 * The configuration schema of the module `bytes` (read from `wasmPath`, used to find the file
 * beside it; give undefined for bytes that came from elsewhere, such as an image layer). Returns
 * null when the module declares no configuration: such a configuration is only checked as JSON.
 *
 * Bytes that are not a wasm binary have no schema here: loading the module reports them, with
 * Envoy's message.
 *
 * @throws ConfigSchemaReadError when the section or the file is not UTF-8 JSON of an object.
 */
export function readModuleConfigSchema(bytes: Uint8Array, wasmPath?: string): ModuleConfigSchema | null {
  const section = customSection(bytes, CONFIG_SCHEMA_SECTION_NAME);
  if (section !== undefined) {
    const source = `custom section ${CONFIG_SCHEMA_SECTION_NAME}`;
    return { schema: schemaObject(section, source), source };
  }
  if (wasmPath === undefined) return null;
  const file = configSchemaFilePath(wasmPath);
  if (!existsSync(file)) return null;
  return { schema: schemaObject(readFileSync(file), file), source: file };
}

function schemaObject(bytes: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigSchemaReadError(`${source}: the configuration schema is not UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigSchemaReadError(`${source}: the configuration schema is not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigSchemaReadError(`${source}: the configuration schema is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * The content of the first custom section called `name`, walking the section headers only (the
 * module is not compiled, so this is cheap for any size), or undefined when there is none or the
 * bytes are not a well-formed sequence of sections.
 */
function customSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
  const wanted = new TextEncoder().encode(name);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((byte, i) => bytes[i] !== byte)) return undefined;
  let offset = 8;
  const leb = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (offset >= bytes.length) break;
      const byte = bytes[offset++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    return Number.POSITIVE_INFINITY;
  };
  while (offset < bytes.length) {
    const id = bytes[offset++];
    const size = leb();
    const end = offset + size;
    if (end > bytes.length) return undefined;
    if (id === 0) {
      const nameLength = leb();
      const nameEnd = offset + nameLength;
      if (nameEnd <= end && nameLength === wanted.length && wanted.every((byte, i) => bytes[offset + i] === byte)) return bytes.subarray(nameEnd, end);
    }
    offset = end;
  }
  return undefined;
}
