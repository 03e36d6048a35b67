import { formatReference, parseImageReference } from "../oci/image-reference";
import { DeployConfigError } from "./deploy-error";

/** An image URL plus the manifest digest that pins it. */
export interface PinnedImage {
  /** `registry/repo[:tag][@sha256:…]`, without a scheme. */
  reference: string;
  /** 64 lowercase hex digits (the manifest digest), or undefined when explicitly unpinned. */
  sha256: string | undefined;
}

/**
 * Resolves the pin of an OCI image (deployment doc §8.3: pin by digest). The digest comes from
 * `url@sha256:…` or from `sha256`; when both are given they must agree, as Istio requires.
 *
 * @throws DeployConfigError for a malformed URL or sha256, a disagreement, or no pin at all
 *   unless `allowUnpinned`.
 */
export function pinImage(url: string, sha256: string | undefined, allowUnpinned = false): PinnedImage {
  const ref = parseImageReference(url);
  if (ref === undefined) throw new DeployConfigError(`image: not an OCI reference: "${url}"`);
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256.replace(/^sha256:/, ""))) {
    throw new DeployConfigError(`sha256: expected 64 lower-case hex digits, got "${sha256}"`);
  }
  const given = sha256?.replace(/^sha256:/, "");
  const fromUrl = ref.digest?.slice("sha256:".length);
  if (given !== undefined && fromUrl !== undefined && given !== fromUrl) {
    throw new DeployConfigError(`sha256 ${given} does not match the digest in the image URL (${fromUrl})`);
  }
  const pin = fromUrl ?? given;
  if (pin === undefined && !allowUnpinned) {
    throw new DeployConfigError(`image "${url}" is not pinned: use the oci://…@sha256:… URL printed by \`push\`, or --sha256 (or --allow-unpinned)`);
  }
  return { reference: `${formatReference(ref)}${pin === undefined ? "" : `@sha256:${pin}`}`, sha256: pin };
}
