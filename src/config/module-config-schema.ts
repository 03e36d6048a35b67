// Where a module's plugin-configuration schema comes from, for the tools that check a
// configuration before traffic (run, deploy). The SDK's build transform writes the JSON Schema of
// the declared configuration class into a custom section, so the schema travels inside the .wasm
// (and so inside every image built from it); a build that keeps the module small may write it
// to a file beside the module instead (`<module>.schema.json`), which `package` puts in the image as
// `plugin.schema.json` beside `plugin.wasm`. The section wins when both exist.

import { existsSync, readFileSync } from "node:fs";

/** The custom section that carries the configuration's JSON Schema (UTF-8 JSON, draft 2020-12). */
export const CONFIG_SCHEMA_SECTION = "proxy-wasm-as.config-schema";

/**
 * The section the SDK's transform writes the schema into when the project asks for a file
 * (`--use PROXY_WASM_AS_CONFIG_SCHEMA_FILE=1`, transform/plugin-config.mjs): `build` takes it out
 * of the module and writes it to configSchemaFilePath. Never in a module `build` wrote.
 */
export const CONFIG_SCHEMA_FILE_SECTION = "proxy-wasm-as.config-schema.to-file";

/** A module's configuration schema and where it was read from (for messages). */
export interface ModuleConfigSchema {
  schema: Record<string, unknown>;
  /**
   * `custom section proxy-wasm-as.config-schema`, the path of the file beside the module, or the
   * `source` given with a file an image carries.
   */
  source: string;
}

/** Thrown when a module carries a schema that is not UTF-8 JSON of an object (a broken build). */
export class ConfigSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigSchemaError";
  }
}

/** The file beside `wasmPath` a build may write the schema to: `x.wasm` -> `x.schema.json`. */
export function configSchemaFilePath(wasmPath: string): string {
  return `${wasmPath.replace(/\.wasm$/, "")}.schema.json`;
}

/** A schema file that came with a module from elsewhere: an image's `plugin.schema.json`. */
export interface CarriedConfigSchema {
  bytes: Uint8Array;
  /** Names it in messages, e.g. `plugin.schema.json in image build/oci`. */
  source: string;
}

/**
 * The configuration schema of the module `bytes` (read from `wasmPath`, used to find the file
 * beside it; give undefined for bytes that came from elsewhere, such as an image layer, and the
 * schema file that came with them as `carried`). Returns null when the module declares no
 * configuration: such a configuration is only checked as JSON.
 *
 * Bytes that are not a wasm binary have no schema here: loading the module reports them, with
 * Envoy's message.
 *
 * @throws ConfigSchemaError when the section or the file is not UTF-8 JSON of an object.
 */
export function readModuleConfigSchema(bytes: Uint8Array, wasmPath?: string, carried?: CarriedConfigSchema): ModuleConfigSchema | null {
  const section = customSection(bytes, CONFIG_SCHEMA_SECTION);
  if (section !== undefined) {
    const source = `custom section ${CONFIG_SCHEMA_SECTION}`;
    return { schema: configSchemaObject(section, source), source };
  }
  if (carried !== undefined) return { schema: configSchemaObject(carried.bytes, carried.source), source: carried.source };
  if (wasmPath === undefined) return null;
  const file = configSchemaFilePath(wasmPath);
  if (!existsSync(file)) return null;
  return { schema: configSchemaObject(readFileSync(file), file), source: file };
}

/**
 * The schema in `bytes` (a section's payload or a file's content) read from `source` (named in
 * the message).
 *
 * @throws ConfigSchemaError when the bytes are not UTF-8 JSON of an object.
 */
export function configSchemaObject(bytes: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigSchemaError(`${source}: the configuration schema is not UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigSchemaError(`${source}: the configuration schema is not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigSchemaError(`${source}: the configuration schema is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * The content of the first custom section called `name`, walking the section headers only (the
 * module is not compiled, so this is cheap for any size), or undefined when there is none or the
 * bytes are not a well-formed sequence of sections.
 */
export function customSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
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
