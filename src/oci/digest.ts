import { createHash } from "node:crypto";

/** `sha256:<hex>` of `bytes`: the content address OCI uses for blobs and manifests. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}

/** The lowercase hex sha256 of `bytes` (what `sha256` fields in Istio and Envoy expect). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** True for `sha256:` followed by 64 lowercase hex digits. */
export function isSha256Digest(text: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(text);
}
