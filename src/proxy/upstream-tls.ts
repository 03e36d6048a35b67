import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type { UpstreamTlsConfig } from "./config/tls-config";

/**
 * Node TLS client options that behave as Envoy's UpstreamTlsContext: SNI only when `sni` is
 * configured, the server certificate verified only against a configured `trusted_ca`, and no
 * hostname check (Envoy matches names only with `match_typed_subject_alt_names`, which the dev
 * proxy does not support). See envoy source/common/tls/context_impl.cc (verification happens only
 * with a CA) and client_ssl_socket.cc (SNI from the config).
 */
export function upstreamTlsOptions(tls: UpstreamTlsConfig): ConnectionOptions {
  return {
    // Node refuses an IP address as SNI (RFC 6066); such a `sni` is left out.
    servername: tls.sni !== undefined && isIP(tls.sni) === 0 ? tls.sni : "",
    ca: tls.trustedCa,
    rejectUnauthorized: tls.trustedCa !== undefined,
    checkServerIdentity: () => undefined,
    cert: tls.certificateChain,
    key: tls.privateKey,
    ALPNProtocols: tls.alpnProtocols.length > 0 ? tls.alpnProtocols : undefined,
  };
}
