import { parseAuthChallenge } from "./auth-challenge";
import type { Descriptor, ImageManifest } from "./compat-image";
import { wasmFromCompatLayer } from "./compat-layer-check";
import { refuseTokenRealm } from "./credential-scope";
import { sha256Digest } from "./digest";
import { formatReference, registryApiHost, type ImageReference } from "./image-reference";
import { COMPAT_LAYER_TYPES, DOCKER_MANIFEST, OCI_MANIFEST } from "./media-types";
import type { RegistryCredentials } from "./registry-credentials";
import { parseRegistryErrors, RegistryError } from "./registry-error";
import { exchange, type Exchange } from "./registry-http";

/** What `pushImage` needs: the manifest's exact bytes and every blob it references. */
export interface PushableImage {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  blobs: { descriptor: Descriptor; bytes: Buffer }[];
}

export interface PushOptions {
  /** Where to push; must carry a tag. */
  reference: ImageReference;
  /** Talk plain HTTP instead of HTTPS (loopback or lab registries). */
  insecure?: boolean;
  /** Sent only to the registry's origin and to a token realm `credential-scope.ts` allows. */
  credentials?: RegistryCredentials;
  /**
   * Token realm origins (`https://auth.example`) that may receive the credentials although they are
   * not on the registry's site; each is compared with the realm's WHATWG origin.
   */
  trustedRealmOrigins?: readonly string[];
  /** One line per step (`blob sha256:… uploaded`); silent when absent. */
  log?: (line: string) => void;
}

export interface PushResult {
  manifestDigest: string;
  /** `oci://registry/repo:tag@sha256:…`, ready to paste into a WasmPlugin or EnvoyExtensionPolicy. */
  pinnedUrl: string;
  uploaded: string[];
  skipped: string[];
}

/**
 * Pushes an image with the OCI distribution API (deployment doc §4.5): auth discovery on
 * `GET /v2/` (anonymous, Basic, or Bearer token), `HEAD` then monolithic `POST`+`PUT` per blob,
 * the manifest `PUT` with its digest verified, then a read-back that pulls the manifest and the
 * last layer and checks it holds a `plugin.wasm` starting with `\0asm`, as Istio would.
 *
 * @throws RegistryError when the registry refuses a step (with its error codes and messages);
 *   Error for a network failure or a failed verification.
 */
export async function pushImage(image: PushableImage, options: PushOptions): Promise<PushResult> {
  const { reference } = options;
  if (reference.tag === undefined) throw new Error(`push needs a tag: ${formatReference(reference)}:<tag>`);
  const session = new RegistrySession(reference, options.insecure ?? false, options.credentials, options.trustedRealmOrigins ?? []);
  const log = options.log ?? (() => {});
  await session.authenticate();

  const uploaded: string[] = [];
  const skipped: string[] = [];
  for (const blob of image.blobs) {
    if (await session.hasBlob(blob.descriptor.digest)) {
      skipped.push(blob.descriptor.digest);
      log(`blob ${blob.descriptor.digest} already present`);
      continue;
    }
    await session.uploadBlob(blob.descriptor.digest, blob.bytes);
    uploaded.push(blob.descriptor.digest);
    log(`blob ${blob.descriptor.digest} uploaded (${blob.bytes.length} bytes)`);
  }
  await session.putManifest(reference.tag, image.manifest.mediaType, image.manifestBytes, image.manifestDigest);
  log(`manifest ${image.manifestDigest} pushed as ${reference.tag}`);
  await session.readBack(reference.tag, image.manifestDigest);
  log("read-back: the last layer holds plugin.wasm (\\0asm)");
  return { manifestDigest: image.manifestDigest, pinnedUrl: `oci://${formatReference(reference)}@${image.manifestDigest}`, uploaded, skipped };
}

/**
 * One push's connection state: base URL, repository and the Authorization header once known. That
 * header (Basic credentials or the bearer token) is bound to the registry's origin: `exchange` attaches
 * it only to requests, and redirect hops, on that origin.
 */
class RegistrySession {
  private readonly base: URL;
  private authorization: string | undefined;

  constructor(
    private readonly reference: ImageReference,
    insecure: boolean,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly trustedRealmOrigins: readonly string[],
  ) {
    this.base = new URL(`${insecure ? "http" : "https"}://${registryApiHost(reference.registry)}`);
  }

  private get repo(): string {
    return this.reference.repository;
  }

  async authenticate(): Promise<void> {
    const step = "check registry (GET /v2/)";
    const { response, url } = await this.exchange("GET", "/v2/", step, { authorize: false });
    if (response.status === 200) return;
    if (response.status !== 401) throw await refusal(step, response);
    // A challenge from another origin (where /v2/ redirected) would choose where the credentials go.
    if (url.origin !== this.base.origin) {
      await response.arrayBuffer();
      throw new Error(`${step}: the 401 came from ${url.origin}, not from the registry ${this.base.origin}; push sends credentials only where the registry itself asks`);
    }
    const challenge = parseAuthChallenge(response.headers.get("www-authenticate"));
    await response.arrayBuffer();
    if (challenge?.scheme === "basic") {
      if (!this.credentials) throw new Error(`${this.reference.registry} requires a user name and password (Basic auth); none found`);
      this.authorization = `Basic ${basic(this.credentials)}`;
      return;
    }
    if (challenge?.scheme === "bearer" && challenge.params.realm) {
      this.authorization = `Bearer ${await this.fetchToken(challenge.params)}`;
      return;
    }
    throw new Error(`${this.reference.registry} answered 401 with an unsupported WWW-Authenticate challenge: ${response.headers.get("www-authenticate") ?? "(none)"}`);
  }

  private async fetchToken(params: Record<string, string>): Promise<string> {
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new Error(`${this.reference.registry} named a token realm that is not a URL: ${params.realm}`);
    }
    const refused = refuseTokenRealm(url, this.base, this.credentials !== undefined, this.trustedRealmOrigins);
    if (refused !== undefined) throw new Error(`get token: ${refused}`);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", `repository:${this.repo}:pull,push`);
    const step = `get token (${url.origin}${url.pathname})`;
    const authorization = this.credentials ? { header: `Basic ${basic(this.credentials)}`, origin: url.origin } : undefined;
    const { response } = await exchange("GET", url, step, { authorization });
    if (response.status !== 200) throw await refusal(step, response);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token endpoint ${url.origin}${url.pathname} returned no token`);
    return token;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const step = `check blob ${digest}`;
    const response = await this.send("HEAD", `/v2/${this.repo}/blobs/${digest}`, step);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await refusal(step, response);
  }

  async uploadBlob(digest: string, bytes: Buffer): Promise<void> {
    const start = await this.send("POST", `/v2/${this.repo}/blobs/uploads/`, `start upload of ${digest}`);
    if (start.status !== 202) throw await refusal(`start upload of ${digest}`, start);
    await start.arrayBuffer();
    const location = start.headers.get("location");
    if (!location) throw new Error(`start upload of ${digest}: the registry sent no Location header`);
    // Location may be relative and may already carry a query (the upload state). On another
    // origin the PUT goes without Authorization, as containerd's pusher does.
    const target = new URL(location, this.base);
    target.searchParams.append("digest", digest);
    const step = `upload blob ${digest}`;
    const done = await this.send("PUT", target.href, step, {
      headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
      body: bytes,
    });
    if (done.status !== 201) throw await refusal(step, done);
    await done.arrayBuffer();
    const echoed = done.headers.get("docker-content-digest");
    if (echoed !== null && echoed !== digest) throw new Error(`${step}: the registry stored it as ${echoed}`);
  }

  async putManifest(tag: string, mediaType: string, bytes: Buffer, digest: string): Promise<void> {
    const step = `push manifest ${tag}`;
    const response = await this.send("PUT", `/v2/${this.repo}/manifests/${tag}`, step, {
      headers: { "content-type": mediaType, "content-length": String(bytes.length) },
      body: bytes,
    });
    if (response.status !== 201) throw await refusal(step, response);
    await response.arrayBuffer();
    const echoed = response.headers.get("docker-content-digest");
    if (echoed !== null && echoed !== digest) throw new Error(`${step}: the registry computed digest ${echoed}, expected ${digest}`);
  }

  async readBack(tag: string, expectedDigest: string): Promise<void> {
    const step = `read back manifest ${tag}`;
    const response = await this.send("GET", `/v2/${this.repo}/manifests/${tag}`, step, { headers: { accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } });
    if (response.status !== 200) throw await refusal(step, response);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (digest !== expectedDigest) throw new Error(`${step}: the registry serves ${digest}, not the pushed ${expectedDigest}`);
    const manifest = JSON.parse(bytes.toString("utf8")) as ImageManifest;
    const last = manifest.layers[manifest.layers.length - 1];
    if (!last || !COMPAT_LAYER_TYPES.includes(last.mediaType)) throw new Error(`${step}: last layer type ${last?.mediaType ?? "(none)"} is not a tar+gzip layer Istio can pull`);
    const layerStep = `read back layer ${last.digest}`;
    // A 307 to blob storage is normal; the hop there carries no Authorization.
    const layer = await this.send("GET", `/v2/${this.repo}/blobs/${last.digest}`, layerStep);
    if (layer.status !== 200) throw await refusal(layerStep, layer);
    const layerBytes = Buffer.from(await layer.arrayBuffer());
    if (sha256Digest(layerBytes) !== last.digest) throw new Error(`${layerStep}: content does not match its digest`);
    try {
      wasmFromCompatLayer(layerBytes);
    } catch (error) {
      throw new Error(`${layerStep}: ${(error as Error).message}`);
    }
  }

  private async send(
    method: string,
    pathOrUrl: string,
    step: string,
    init: { headers?: Record<string, string>; body?: Buffer; authorize?: boolean } = {},
  ): Promise<Response> {
    return (await this.exchange(method, pathOrUrl, step, init)).response;
  }

  private exchange(
    method: string,
    pathOrUrl: string,
    step: string,
    init: { headers?: Record<string, string>; body?: Buffer; authorize?: boolean } = {},
  ): Promise<Exchange> {
    const authorization = init.authorize !== false && this.authorization ? { header: this.authorization, origin: this.base.origin } : undefined;
    return exchange(method, new URL(pathOrUrl, this.base), step, { headers: init.headers, body: init.body, authorization });
  }
}

function basic(credentials: RegistryCredentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
}

async function refusal(step: string, response: Response): Promise<RegistryError> {
  const text = await response.text();
  return new RegistryError(step, response.status, parseRegistryErrors(text), text);
}
