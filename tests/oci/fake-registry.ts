import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How the fake registry authenticates: none, Basic, or a Bearer token from its own /token endpoint. */
export type FakeAuth = { kind: "anonymous" } | { kind: "basic"; username: string; password: string } | { kind: "bearer"; username: string; password: string };

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  contentType?: string;
}

/**
 * A loopback OCI registry implementing only what `push` uses: /v2/, blob HEAD/GET, POST+PUT
 * monolithic upload, manifest PUT/GET, a token endpoint for Bearer auth, and optionally a 415
 * refusal of manifests (as Quay answers for media types it does not allow).
 */
export async function startFakeRegistry(options: { auth?: FakeAuth; refuseManifests?: boolean } = {}) {
  const auth = options.auth ?? { kind: "anonymous" };
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; contentType: string }>();
  const requests: RecordedRequest[] = [];
  let uploads = 0;
  const token = "tok-123";

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://registry");
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers["content-type"] });
    const send = (status: number, headers: Record<string, string> = {}, payload: string | Buffer = "") => {
      res.writeHead(status, headers);
      res.end(payload);
    };
    const error = (status: number, code: string, message: string) => send(status, { "content-type": "application/json" }, JSON.stringify({ errors: [{ code, message }] }));

    if (url.pathname === "/token") {
      const expected = `Basic ${Buffer.from(`${(auth as { username: string }).username}:${(auth as { password: string }).password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return error(401, "UNAUTHORIZED", "bad credentials");
      return send(200, { "content-type": "application/json" }, JSON.stringify({ token }));
    }
    if (!authorized(req.headers.authorization)) {
      const challenge =
        auth.kind === "basic" ? 'Basic realm="fake"' : `Bearer realm="http://127.0.0.1:${port()}/token",service="fake-registry",scope="repository:acme/filter:pull,push"`;
      return send(401, { "www-authenticate": challenge, "content-type": "application/json" }, JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
    }
    if (url.pathname === "/v2/") return send(200);
    let match = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (match && (req.method === "HEAD" || req.method === "GET")) {
      const blob = blobs.get(match[2]);
      if (!blob) return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
      return send(200, { "content-length": String(blob.length), "docker-content-digest": match[2] }, req.method === "GET" ? blob : "");
    }
    match = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
    if (match && req.method === "POST") {
      uploads += 1;
      return send(202, { location: `/v2/${match[1]}/blobs/uploads/u${uploads}?state=s${uploads}`, "content-length": "0" });
    }
    match = /^\/v2\/(.+)\/blobs\/uploads\/(u\d+)$/.exec(url.pathname);
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
  });

  function authorized(header: string | undefined): boolean {
    if (auth.kind === "anonymous") return true;
    if (auth.kind === "basic") return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    return header === `Bearer ${token}`;
  }
  const port = () => (server.address() as AddressInfo).port;

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${port()}`,
    blobs,
    manifests,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
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
