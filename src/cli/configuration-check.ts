// The configuration check `deploy` and `run` make before anything reaches a running VM: the
// plugin configuration against the schema its module carries. Finds the module (a .wasm, or an
// OCI image layout / layout .tar that `package` wrote), reads the schema, and words the refusal.

import { existsSync, readFileSync, statSync } from "node:fs";
import { relative } from "node:path";
import { checkPluginConfiguration, InvalidConfigSchemaError } from "../config/plugin-config-check";
import { ConfigSchemaReadError, configSchemaFilePath, readModuleConfigSchema, type ModuleConfigSchema } from "../config/module-config-schema";
import { isTarArchive, readImageLayout, readImageLayoutTar, wasmFromCompatLayer, type LayoutImage } from "../oci";

/** A module found for the check: its bytes, its path when it is a file, and its image's digest when it came from an image. */
export interface ModuleForCheck {
  bytes: Uint8Array;
  /** The .wasm path (where a `<module>.schema.json` may sit beside it); undefined for an image. */
  wasmPath?: string;
  /** `sha256:…` of the image manifest, when the module came from an OCI layout. */
  manifestDigest?: string;
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
 * module is the compat layer's plugin.wasm, as Istio's agent takes it). `shown` names it in errors.
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
    const layer = image.blobs.find((blob) => blob.descriptor.digest === image!.manifest.layers[0]?.digest);
    if (layer === undefined) throw new Error(`${shown}: the image has no layer`);
    return { bytes: wasmFromCompatLayer(layer.bytes), manifestDigest: image.manifestDigest };
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
    schema = readModuleConfigSchema(module.bytes, module.wasmPath);
  } catch (error) {
    if (!(error instanceof ConfigSchemaReadError)) throw error;
    return { ok: false, lines: [`${moduleName}: ${error.message} (rebuild the module; --no-config-check skips the check)`] };
  }
  if (schema === null) return { ok: true, schema };
  let problems: string[];
  try {
    problems = checkPluginConfiguration(configuration, schema.schema, { positions: asWritten });
  } catch (error) {
    if (!(error instanceof InvalidConfigSchemaError)) throw error;
    const where = schema.source.startsWith("custom section") ? `${moduleName}: ${schema.source}` : shownPath(cwd, schema.source);
    return { ok: false, lines: [`${where}: the configuration schema is ${error.message} (rebuild the module; --no-config-check skips the check)`] };
  }
  if (problems.length === 0) return { ok: true, schema };
  const from = schema.source.startsWith("custom section") ? `the schema ${moduleName} carries` : `the schema in ${shownPath(cwd, schema.source)}`;
  return {
    ok: false,
    lines: [...problems.map((problem) => `${where}: ${problem}`), `  (checked against ${from}; --no-config-check skips the check)`],
  };
}

/**
 * For `package` and `push`: the note to print when the module's schema is a file beside it rather
 * than its custom section, since an image carries only the module; undefined otherwise.
 */
export function schemaBesideNote(cwd: string, wasmPath: string, bytes: Uint8Array): string | undefined {
  const file = configSchemaFilePath(wasmPath);
  if (!existsSync(file)) return undefined;
  try {
    if (readModuleConfigSchema(bytes) !== null) return undefined;
  } catch {
    return undefined;
  }
  return `note: the configuration schema ${shownPath(cwd, file)} stays beside the module, not in the image; check configurations with deploy --wasm ${shownPath(cwd, wasmPath)}`;
}

/** A path as the user sees it: relative to `cwd` when inside it. */
export function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}
