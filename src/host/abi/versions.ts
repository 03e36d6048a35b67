/** The Proxy-Wasm ABI versions cpp-host (and therefore Envoy) can load (§1.1). */
export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** All loadable versions, oldest first. */
export const ABI_VERSIONS: readonly AbiVersion[] = ["0.1.0", "0.2.0", "0.2.1"];

/** Export name that advertises each version. */
export const ABI_MARKERS: Readonly<Record<AbiVersion, string>> = {
  "0.1.0": "proxy_abi_version_0_1_0",
  "0.2.0": "proxy_abi_version_0_2_0",
  "0.2.1": "proxy_abi_version_0_2_1",
};

/**
 * Marker of the vNEXT draft. cpp-host does not know it, so a module exporting only this marker
 * fails with "Missing or unknown Proxy-Wasm ABI version"; kept here to give a better hint.
 */
export const ABI_MARKER_VNEXT = "proxy_abi_version_0_x_x";

/** The version a marker name stands for, or `undefined` when the name is not a known marker. */
export function abiVersionOfMarker(exportName: string): AbiVersion | undefined {
  for (const version of ABI_VERSIONS) {
    if (ABI_MARKERS[version] === exportName) return version;
  }
  return undefined;
}
