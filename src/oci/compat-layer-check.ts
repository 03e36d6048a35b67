import { gunzipSync } from "node:zlib";
import { PLUGIN_FILE_NAME } from "./media-types";
import { readTar } from "./tar";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Checks a compat layer the way the Istio agent does: gunzip, untar, find a member whose
 * basename is `plugin.wasm`, and require the Wasm magic. Returns the module bytes, or throws
 * an Error saying what a puller would fail on.
 */
export function wasmFromCompatLayer(layer: Uint8Array): Uint8Array {
  let tar: Buffer;
  try {
    tar = gunzipSync(layer);
  } catch (error) {
    throw new Error(`layer is not gzip: ${(error as Error).message}`);
  }
  const entries = readTar(tar);
  const plugin = entries.find((entry) => entry.data !== undefined && entry.name.split("/").pop() === PLUGIN_FILE_NAME);
  if (!plugin?.data) throw new Error(`layer has no ${PLUGIN_FILE_NAME} (members: ${entries.map((e) => e.name).join(", ") || "none"})`);
  if (!WASM_MAGIC.every((byte, i) => plugin.data![i] === byte)) throw new Error(`${PLUGIN_FILE_NAME} does not start with \\0asm`);
  return plugin.data;
}
