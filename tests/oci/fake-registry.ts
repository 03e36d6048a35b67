import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the fake registry authenticates: none, Basic, or a Bearer token from its own /token endpoint. */
export type FakeAuth = { kind: "anonymous" } | { kind: "basic"; username: string; password: string } | { kind: "bearer"; username: string; password: string };

export interface RecordedRequest {
  /** Which listener received it: the registry's own origin, or the second one (`otherHost`). */
  origin: "registry" | "other";
  method: string;
  url: string;
  authorization?: string;
  contentType?: string;
}

/**
 * Where the fake sends a client elsewhere; each is an origin (`http://127.0.0.1:1234`), set after
 * start (when the ports are known). Unset: everything stays on the registry's own origin.
 */
export interface Diversions {
  /** The Bearer challenge's realm (a full URL); default the registry's own `/token`. */
  realm?: string;
  /** `POST …/blobs/uploads/` answers with an absolute `Location` on this origin. */
  uploadOrigin?: string;
  /** The upload `PUT` on the registry answers 307 to the same path on this origin. */
  uploadPutRedirectOrigin?: string;
  /** Blob `GET` answers 307 to the same path on this origin (blob storage). */
  blobRedirectOrigin?: string;
  /** The registry's own `/token` answers 307 to the same path on this origin. */
  tokenRedirectOrigin?: string;
  /** `GET /v2/` answers 307 to this origin's `/v2/`, which challenges with its own `/token`. */
  v2RedirectOrigin?: string;
}

/**
 * A loopback OCI registry implementing only what `push` uses: /v2/, blob HEAD/GET, POST+PUT
 * monolithic upload, manifest PUT/GET, a token endpoint for Bearer auth, and optionally a 415
 * refusal of manifests (as Quay answers for media types it does not allow).
 *
 * A second listener on another port (`otherHost`) shares its blob store and plays another origin:
 * a token realm (`/token`), an upload host or blob storage (no auth asked), or a hostile `/v2/`
 * whose challenge names its own realm. Every request either listener gets is recorded, with which.
 */
export async function startFakeRegistry(options: { auth?: FakeAuth; refuseManifests?: boolean } = {}) {
  const auth = options.auth ?? { kind: "anonymous" };
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; contentType: string }>();
  const requests: RecordedRequest[] = [];
  let uploads = 0;
  const token = "tok-123";
  const divert: Diversions = {};

  const handler = (origin: RecordedRequest["origin"]) => async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://registry");
    requests.push({ origin, method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers["content-type"] });
    const send = (status: number, headers: Record<string, string> = {}, payload: string | Buffer = "") => {
      res.writeHead(status, headers);
      res.end(payload);
    };
    const error = (status: number, code: string, message: string) => send(status, { "content-type": "application/json" }, JSON.stringify({ errors: [{ code, message }] }));

    if (url.pathname === "/token" && origin === "registry" && divert.tokenRedirectOrigin) return send(307, { location: `${divert.tokenRedirectOrigin}${req.url}` });
    if (url.pathname === "/token") {
      const expected = `Basic ${Buffer.from(`${(auth as { username: string }).username}:${(auth as { password: string }).password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return error(401, "UNAUTHORIZED", "bad credentials");
      return send(200, { "content-type": "application/json" }, JSON.stringify({ token }));
    }
    const challenge = (realm: string) =>
      send(401, { "www-authenticate": `Bearer realm="${realm}",service="fake-registry",scope="repository:acme/filter:pull,push"`, "content-type": "application/json" }, JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
    if (origin === "other" && url.pathname === "/v2/") return challenge(`http://127.0.0.1:${port(other)}/token`);
    if (origin === "registry" && url.pathname === "/v2/" && divert.v2RedirectOrigin) return send(307, { location: `${divert.v2RedirectOrigin}/v2/` });
    if (origin === "registry" && !authorized(req.headers.authorization)) {
      if (auth.kind === "basic") {
        return send(401, { "www-authenticate": 'Basic realm="fake"', "content-type": "application/json" }, JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      }
      return challenge(divert.realm ?? `http://127.0.0.1:${port(server)}/token`);
    }
    if (url.pathname === "/v2/") return send(200);
    let match = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (match && req.method === "GET" && origin === "registry" && divert.blobRedirectOrigin) return send(307, { location: `${divert.blobRedirectOrigin}${req.url}` });
    if (match && (req.method === "HEAD" || req.method === "GET")) {
      const blob = blobs.get(match[2]);
      if (!blob) return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
      return send(200, { "content-length": String(blob.length), "docker-content-digest": match[2] }, req.method === "GET" ? blob : "");
    }
    match = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
    if (match && req.method === "POST") {
      uploads += 1;
      return send(202, { location: `${divert.uploadOrigin ?? ""}/v2/${match[1]}/blobs/uploads/u${uploads}?state=s${uploads}`, "content-length": "0" });
    }
    match = /^\/v2\/(.+)\/blobs\/uploads\/(u\d+)$/.exec(url.pathname);
    if (match && req.method === "PUT" && origin === "registry" && divert.uploadPutRedirectOrigin) return send(307, { location: `${divert.uploadPutRedirectOrigin}${req.url}` });
    if (match && req.method === "PUT") {
      const digest = url.searchParams.get("digest") ?? "";
      if (`sha256:${createHash("sha256").update(body).digest("hex")}` !== digest) return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content");
      blobs.set(digest, body);
      return send(201, { location: `/v2/${match[1]}/blobs/${digest}`, "docker-content-digest": digest });
    }
    match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (match && req.method === "PUT") {
      if (options.refuseManifests) return error(415, "MANIFEST_INVALID", "manifest invalid: media type not allowed");
      const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
      manifests.set(match[2], { bytes: body, contentType: String(req.headers["content-type"]) });
      return send(201, { location: `/v2/${match[1]}/manifests/${digest}`, "docker-content-digest": digest });
    }
    if (match && req.method === "GET") {
      const manifest = manifests.get(match[2]);
      if (!manifest) return error(404, "MANIFEST_UNKNOWN", "manifest unknown");
      return send(200, { "content-type": manifest.contentType }, manifest.bytes);
    }
    return error(404, "UNSUPPORTED", `fake registry: ${req.method} ${url.pathname}`);
  };
  const server: Server = createServer(handler("registry"));
  const other: Server = createServer(handler("other"));

  function authorized(header: string | undefined): boolean {
    if (auth.kind === "anonymous") return true;
    if (auth.kind === "basic") return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    return header === `Bearer ${token}`;
  }
  const port = (listener: Server) => (listener.address() as AddressInfo).port;

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const closeOne = (listener: Server) =>
    new Promise<void>((resolve) => {
      listener.close(() => resolve());
      listener.closeAllConnections();
    });
  return {
    host: `127.0.0.1:${port(server)}`,
    /** The second listener, another origin on the same loopback host. */
    otherHost: `127.0.0.1:${port(other)}`,
    divert,
    blobs,
    manifests,
    requests,
    close: async () => {
      await Promise.all([closeOne(server), closeOne(other)]);
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
