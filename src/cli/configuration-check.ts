// The configuration check `deploy` and `run` make before anything reaches a running VM: the
// plugin configuration against the schema its module carries. Finds the module (a .wasm, or an
// OCI image layout / layout .tar that `package` wrote), reads the schema (the module's section, the
// file beside a .wasm, or the `plugin.schema.json` an image carries), and words the refusal.

import { existsSync, readFileSync, statSync } from "node:fs";
import { relative } from "node:path";
import { checkPluginConfiguration, InvalidConfigSchemaError } from "../config/plugin-config-check";
import { ConfigSchemaError, configSchemaFilePath, configSchemaObject, customSection, CONFIG_SCHEMA_SECTION, readModuleConfigSchema, type CarriedConfigSchema, type ModuleConfigSchema } from "../config/module-config-schema";
import { configSchemaFromImage, CONFIG_SCHEMA_FILE_NAME, isTarArchive, moduleLayer, readImageLayout, readImageLayoutTar, wasmFromCompatLayer, type LayoutImage } from "../oci";

/** A module found for the check: its bytes, its path when it is a file, and its image's digest when it came from an image. */
export interface ModuleForCheck {
  bytes: Uint8Array;
  /** The .wasm path (where a `<module>.schema.json` may sit beside it); undefined for an image. */
  wasmPath?: string;
  /** `sha256:…` of the image manifest, when the module came from an OCI layout. */
  manifestDigest?: string;
  /** The `plugin.schema.json` the image carries beside the module, when it came from one that does. */
  carriedSchema?: CarriedConfigSchema;
}

/** Thrown when the module named for the check cannot be read; the message says which and why. */
export class ModuleForCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModuleForCheckError";
  }
}

/**
 * Reads the module at `path`: a .wasm file, an OCI image layout directory, or a layout .tar (the
 * module is the last layer's plugin.wasm, as Istio's agent takes it, and the schema file is the
 * `plugin.schema.json` an earlier layer holds, as `package` writes it). `shown` names it in errors.
 *
 * @throws ModuleForCheckError when it is missing or is none of those.
 */
export function readModuleForCheck(path: string, shown: string): ModuleForCheck {
  if (!existsSync(path)) throw new ModuleForCheckError(`${shown} not found`);
  let image: LayoutImage | undefined;
  try {
    if (statSync(path).isDirectory()) image = readImageLayout(path);
    else {
      const bytes = readFileSync(path);
      if (!isTarArchive(bytes)) return { bytes: new Uint8Array(bytes), wasmPath: path };
      image = readImageLayoutTar(bytes, shown);
    }
    const layer = moduleLayer(image);
    if (layer === undefined) throw new Error(`${shown}: the image has no layer`);
    const module: ModuleForCheck = { bytes: wasmFromCompatLayer(layer), manifestDigest: image.manifestDigest };
    const schema = configSchemaFromImage(image);
    if (schema !== undefined) module.carriedSchema = { bytes: schema, source: CONFIG_SCHEMA_FILE_NAME };
    return module;
  } catch (error) {
    if (error instanceof ModuleForCheckError) throw error;
    throw new ModuleForCheckError(`${shown}: ${(error as Error).message.replace(`${shown}: `, "")}`);
  }
}

/** The outcome of checking one configuration: passed, or refused with the lines to print. */
export type ConfigurationVerdict = { ok: true; schema: ModuleConfigSchema | null } | { ok: false; lines: string[] };

/**
 * Checks `configuration` against the schema of `module` (named `moduleName` in messages). A module
 * without a schema passes (the caller keeps its own syntax rule: JSON for Istio and Envoy Gateway,
 * anything for Envoy and the dev proxy, as those hosts take any bytes). `where` names the
 * configuration (`plugin configuration`, `filters[0].configuration`); `asWritten` false leaves
 * positions out (the bytes are JSON made from a mapping, not the user's text).
 */
export function checkModuleConfiguration(configuration: string | Uint8Array, module: ModuleForCheck, moduleName: string, where: string, cwd: string, asWritten = true): ConfigurationVerdict {
  let schema: ModuleConfigSchema | null;
  try {
    schema = readModuleConfigSchema(module.bytes, module.wasmPath, module.carriedSchema);
  } catch (error) {
    if (!(error instanceof ConfigSchemaError)) throw error;
    return { ok: false, lines: [`${moduleName}: ${error.message} (rebuild the module; --no-config-check skips the check)`] };
  }
  if (schema === null) return { ok: true, schema };
  const kind = schema.source.startsWith("custom section") ? "section" : schema.source === module.carriedSchema?.source ? "image" : "file";
  let problems: string[];
  try {
    problems = checkPluginConfiguration(configuration, schema.schema, { positions: asWritten });
  } catch (error) {
    if (!(error instanceof InvalidConfigSchemaError)) throw error;
    const where = kind === "file" ? shownPath(cwd, schema.source) : `${moduleName}: ${schema.source}`;
    return { ok: false, lines: [`${where}: the configuration schema is ${error.message} (rebuild the module; --no-config-check skips the check)`] };
  }
  if (problems.length === 0) return { ok: true, schema };
  const from = kind === "section" ? `the schema ${moduleName} carries` : kind === "image" ? `the schema ${moduleName} carries in ${schema.source}` : `the schema in ${shownPath(cwd, schema.source)}`;
  return {
    ok: false,
    lines: [...problems.map((problem) => `${where}: ${problem}`), `  (checked against ${from}; --no-config-check skips the check)`],
  };
}

/**
 * For `package` and `push`: the schema file the image should carry beside the module, when the
 * build wrote it beside the .wasm (`<module>.schema.json`) instead of into the module's custom
 * section. Undefined when there is no such file or the module carries its own section (which wins,
 * so the file is stale and stays out of the image).
 *
 * @throws ConfigSchemaError when the file is not UTF-8 JSON of an object (packaging it would
 *   only move the failure to every later check).
 */
export function besideSchemaForImage(wasmPath: string, bytes: Uint8Array): { path: string; bytes: Uint8Array } | undefined {
  const path = configSchemaFilePath(wasmPath);
  if (!existsSync(path) || customSection(bytes, CONFIG_SCHEMA_SECTION) !== undefined) return undefined;
  const file = new Uint8Array(readFileSync(path));
  configSchemaObject(file, path);
  return { path, bytes: file };
}

/** A path as the user sees it: relative to `cwd` when inside it. */
export function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}
