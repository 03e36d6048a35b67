import type { TlsOptions, TLSSocket } from "node:tls";
import type { PropertyValue } from "../host/plugin-info";
import type { DownstreamTlsConfig } from "./config/tls-config";

/**
 * Node TLS server options for a listener's DownstreamTlsContext: its certificate, its ALPN list,
 * and client certificates requested when a `trusted_ca` is configured (required with
 * `require_client_certificate`), as Envoy's server context does (envoy source/common/tls/
 * server_context_impl.cc).
 */
export function downstreamTlsServerOptions(tls: DownstreamTlsConfig): TlsOptions {
  return {
    cert: tls.certificateChain,
    key: tls.privateKey,
    ALPNProtocols: tls.alpnProtocols.length > 0 ? tls.alpnProtocols : undefined,
    requestCert: tls.clientCa !== undefined,
    ca: tls.clientCa,
    rejectUnauthorized: tls.requireClientCertificate,
  };
}

/**
 * True when the client presented a certificate that `trusted_ca` does not verify. Envoy fails such
 * a handshake even when certificates are optional (envoy source/common/tls/cert_validator/
 * default_validator.cc); Node lets it through unless they are required, so the listener closes it.
 */
export function refusedClientCertificate(socket: TLSSocket, tls: DownstreamTlsConfig): boolean {
  if (tls.clientCa === undefined || socket.authorized) return false;
  return Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
}

/**
 * Envoy's TLS attributes of a downstream connection (`connection.*`, envoy
 * docs/root/intro/arch_overview/advanced/attributes.rst): `mtls`, `requested_server_name`,
 * `tls_version`, the first URI and DNS SANs of both certificates, and the peer certificate's
 * SHA-256 digest (hex).
 */
export function tlsConnectionAttributes(socket: TLSSocket): Record<string, PropertyValue> {
  const peer = socket.getPeerCertificate();
  const hasPeer = peer !== undefined && Object.keys(peer).length > 0;
  const local = socket.getCertificate();
  const attributes: Record<string, PropertyValue> = {
    mtls: hasPeer && socket.authorized,
    requested_server_name: typeof socket.servername === "string" ? socket.servername : "",
    tls_version: socket.getProtocol() ?? "",
  };
  const localSans = local !== null && "subjectaltname" in local ? local.subjectaltname : undefined;
  addFirstSans(attributes, "local", localSans);
  if (hasPeer) {
    addFirstSans(attributes, "peer", peer.subjectaltname);
    attributes.sha256_peer_certificate_digest = peer.fingerprint256.replaceAll(":", "").toLowerCase();
  }
  return attributes;
}

function addFirstSans(attributes: Record<string, PropertyValue>, which: "local" | "peer", subjectAltName: string | undefined): void {
  const entries = (subjectAltName ?? "").split(", ").filter((entry) => entry !== "");
  const first = (prefix: string) => entries.find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
  const uri = first("URI:");
  const dns = first("DNS:");
  if (uri !== undefined) attributes[`uri_san_${which}_certificate`] = uri;
  if (dns !== undefined) attributes[`dns_san_${which}_certificate`] = dns;
}
