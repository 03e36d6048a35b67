import { readFileSync } from "node:fs";
import { ConfigReader } from "./config-reader";
import { ConfigError } from "./dev-proxy-config";
import { wasmPathOf } from "./wasm-filter-fields";

/**
 * TLS from an Envoy `transport_socket` named `envoy.transport_sockets.tls`: a listener's
 * `DownstreamTlsContext` and a cluster's `UpstreamTlsContext`, reduced to what the dev proxy
 * honours (envoy api/envoy/extensions/transport_sockets/tls/v3/tls.proto and common.proto).
 * Certificate files are read when the config is read, as Envoy reads them when it loads the
 * bootstrap, so a missing file stops the start with its path.
 */

/** A listener's TLS: its certificate and key (PEM), and the ALPN protocols it offers. */
export interface DownstreamTlsConfig {
  certificateChain: Buffer;
  privateKey: Buffer;
  /** common_tls_context.alpn_protocols; empty: no ALPN (Envoy's default). */
  alpnProtocols: string[];
  /**
   * validation_context.trusted_ca (PEM): client certificates are requested and, when presented,
   * verified against it; undefined: none are requested.
   */
  clientCa: Buffer | undefined;
  /** require_client_certificate: a client without a valid certificate is refused. */
  requireClientCertificate: boolean;
}

/** A cluster's TLS: SNI, the CA to verify the upstream with (none: not verified, Envoy's default). */
export interface UpstreamTlsConfig {
  /** UpstreamTlsContext.sni; undefined: no SNI, as Envoy sends none unless configured. */
  sni: string | undefined;
  /** validation_context.trusted_ca (PEM); undefined: the upstream certificate is not verified. */
  trustedCa: Buffer | undefined;
  /** A client certificate (tls_certificates[0]) for mutual TLS. */
  certificateChain: Buffer | undefined;
  privateKey: Buffer | undefined;
  alpnProtocols: string[];
}

const TLS_SOCKET = "envoy.transport_sockets.tls";
const RAW_BUFFER = "envoy.transport_sockets.raw_buffer";

/**
 * A listener filter chain's `transport_socket`: null for none or `raw_buffer`.
 *
 * @throws ConfigError for another transport socket, or a TLS context without a certificate.
 */
export function readDownstreamTransportSocket(socket: ConfigReader | undefined, cwd: string): DownstreamTlsConfig | null {
  const context = tlsContextOf(socket, "DownstreamTlsContext");
  if (context === null) return null;
  const common = context.child("common_tls_context");
  if (!common) throw new ConfigError(`${context.path}.common_tls_context: missing (it holds the listener's certificate)`);
  const certificates = common.children("tls_certificates");
  if (certificates.length === 0) throw new ConfigError(`${common.path}.tls_certificates: missing (the listener needs a certificate_chain and a private_key)`);
  if (certificates.length > 1) common.warn("only the first of tls_certificates is served");
  const { certificateChain, privateKey } = readCertificate(certificates[0], cwd);
  if (certificateChain === undefined || privateKey === undefined) {
    throw new ConfigError(`${certificates[0].path}: certificate_chain and private_key are both needed`);
  }
  const alpnProtocols = common.list("alpn_protocols").map(String);
  const clientCa = readValidationContext(common.child("validation_context"), cwd);
  readCommonRest(common);
  const requireClientCertificate = readBoolValue(context.raw("require_client_certificate"));
  if (requireClientCertificate && clientCa === undefined) {
    throw new ConfigError(`${context.at("require_client_certificate")}: needs common_tls_context.validation_context.trusted_ca to verify client certificates with`);
  }
  context.unsupported("session_ticket_keys");
  context.unsupported("ocsp_staple_policy");
  context.finish();
  return { certificateChain, privateKey, alpnProtocols, clientCa, requireClientCertificate };
}

/**
 * A cluster's `transport_socket`: null for none or `raw_buffer`.
 *
 * @throws ConfigError for another transport socket or an unreadable file.
 */
export function readUpstreamTransportSocket(socket: ConfigReader | undefined, cwd: string): UpstreamTlsConfig | null {
  const context = tlsContextOf(socket, "UpstreamTlsContext");
  if (context === null) return null;
  const sni = context.string("sni");
  context.unsupported("allow_renegotiation");
  context.unsupported("max_session_keys");
  const common = context.child("common_tls_context");
  let trustedCa: Buffer | undefined;
  let certificateChain: Buffer | undefined;
  let privateKey: Buffer | undefined;
  let alpnProtocols: string[] = [];
  if (common) {
    const certificates = common.children("tls_certificates");
    if (certificates.length > 0) ({ certificateChain, privateKey } = readCertificate(certificates[0], cwd));
    if (certificates.length > 1) common.warn("only the first of tls_certificates is used");
    trustedCa = readValidationContext(common.child("validation_context"), cwd);
    alpnProtocols = common.list("alpn_protocols").map(String);
    readCommonRest(common);
  }
  context.finish();
  return { sni, trustedCa, certificateChain, privateKey, alpnProtocols };
}

/** A CertificateValidationContext's `trusted_ca`; the checks the dev proxy does not make are named. */
function readValidationContext(validation: ConfigReader | undefined, cwd: string): Buffer | undefined {
  if (!validation) return undefined;
  const trustedCa = dataSource(validation.child("trusted_ca"), cwd);
  for (const key of ["match_typed_subject_alt_names", "match_subject_alt_names", "verify_certificate_spki", "verify_certificate_hash", "crl", "allow_expired_certificate", "trust_chain_verification"]) {
    validation.unsupported(key);
  }
  validation.finish();
  return trustedCa;
}

/** A `google.protobuf.BoolValue` as YAML writes it: `true` or `{ value: true }`. */
function readBoolValue(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  return typeof value === "object" && value !== null && (value as { value?: unknown }).value === true;
}

/** The TLS context inside a transport socket, or null when the socket is absent or plaintext. */
function tlsContextOf(socket: ConfigReader | undefined, expected: string): ConfigReader | null {
  if (!socket) return null;
  const name = socket.string("name");
  if (name === RAW_BUFFER) {
    socket.accept("typed_config");
    socket.finish();
    return null;
  }
  if (name !== TLS_SOCKET) throw new ConfigError(`${socket.at("name")}: transport socket ${name ?? "(unnamed)"} is not supported (only ${TLS_SOCKET})`);
  // Envoy builds the factory's empty config when typed_config is absent: TLS with the defaults.
  const typed = socket.child("typed_config") ?? new ConfigReader({ "@type": `type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.${expected}` }, `${socket.path}.typed_config`, []);
  const type = typed.string("@type") ?? "";
  if (!type.endsWith(`.${expected}`)) throw new ConfigError(`${typed.at("@type")}: expected ${expected}, got "${type}"`);
  socket.finish();
  return typed;
}

function readCertificate(certificate: ConfigReader, cwd: string): { certificateChain: Buffer | undefined; privateKey: Buffer | undefined } {
  const certificateChain = dataSource(certificate.child("certificate_chain"), cwd);
  const privateKey = dataSource(certificate.child("private_key"), cwd);
  certificate.unsupported("password");
  certificate.finish();
  return { certificateChain, privateKey };
}

/** The common_tls_context fields that are named rather than honoured. */
function readCommonRest(common: ConfigReader): void {
  common.unsupported("tls_params", "TLS versions and cipher suites are Node's defaults; ignored");
  common.unsupported("tls_certificate_sds_secret_configs", "SDS is not supported; give tls_certificates");
  common.unsupported("validation_context_sds_secret_config", "SDS is not supported");
  common.unsupported("combined_validation_context");
  common.finish();
}

/** An Envoy DataSource (`filename`, `inline_string`, `inline_bytes`) as bytes; undefined when absent. */
function dataSource(source: ConfigReader | undefined, cwd: string): Buffer | undefined {
  if (!source) return undefined;
  const filename = source.string("filename");
  const inlineString = source.string("inline_string");
  const inlineBytes = source.string("inline_bytes");
  source.unsupported("environment_variable");
  source.finish();
  if (filename !== undefined) {
    const path = wasmPathOf(filename, cwd);
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`${source.at("filename")}: cannot read ${path}: ${(error as Error).message}`);
    }
  }
  if (inlineString !== undefined) return Buffer.from(inlineString);
  if (inlineBytes !== undefined) return Buffer.from(inlineBytes, "base64");
  throw new ConfigError(`${source.path}: give filename, inline_string or inline_bytes`);
}
