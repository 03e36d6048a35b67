/**
 * Throwaway TLS material for tests, made with the `openssl` command line: a CA and a server
 * certificate it signed (SAN `DNS:localhost`, `IP:127.0.0.1`), a client certificate it signed
 * (SAN `URI:spiffe://cluster.local/ns/default/sa/client`), plus a second, unrelated CA and a
 * client certificate of that one, for tests that expect verification to fail. EC P-256 keys keep
 * generation fast.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  dir: string;
  /** File paths, for bootstraps. */
  caPath: string;
  otherCaPath: string;
  certPath: string;
  keyPath: string;
  /** The same files' contents, for Node clients and servers. */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** The client certificate the CA signed, and one the other CA signed. */
  clientCert: Buffer;
  clientKey: Buffer;
  strangerCert: Buffer;
  strangerKey: Buffer;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "pwas-tls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=proxy-wasm-as test CA"], dir);
  openssl(["req", "-x509", ...ec, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=another CA"], dir);
  openssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], dir);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext"], dir);
  writeFileSync(join(dir, "client.ext"), "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/client\n");
  for (const [name, ca] of [["client", "ca"], ["stranger", "other-ca"]]) {
    openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", "client.ext"], dir);
  }
  const path = (name: string) => join(dir, name);
  return {
    dir,
    caPath: path("ca.crt"),
    otherCaPath: path("other-ca.crt"),
    certPath: path("server.crt"),
    keyPath: path("server.key"),
    ca: readFileSync(path("ca.crt")),
    cert: readFileSync(path("server.crt")),
    key: readFileSync(path("server.key")),
    clientCert: readFileSync(path("client.crt")),
    clientKey: readFileSync(path("client.key")),
    strangerCert: readFileSync(path("stranger.crt")),
    strangerKey: readFileSync(path("stranger.key")),
  };
}
