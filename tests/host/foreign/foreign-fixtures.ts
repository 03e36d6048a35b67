/**
 * The committed modules built by other toolchains (see tests/fixtures/foreign/README.md).
 * Tests load these bytes unchanged, as Envoy would.
 */
import { readFileSync } from "node:fs";

const FIXTURES = new URL("../../fixtures/foreign/", import.meta.url);

export const RUST_HELLO_WORLD = new URL("rust_hello_world.wasm", FIXTURES);
export const RUST_HTTP_HEADERS = new URL("rust_http_headers.wasm", FIXTURES);
export const RUST_HTTP_AUTH_RANDOM = new URL("rust_http_auth_random.wasm", FIXTURES);
export const RUST_HTTP_BODY = new URL("rust_http_body.wasm", FIXTURES);
export const C_ADD_HEADER = new URL("c_add_header.wasm", FIXTURES);

export function fixtureBytes(url: URL): Uint8Array {
  return new Uint8Array(readFileSync(url));
}
