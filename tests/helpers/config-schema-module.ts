// Fixture modules that declare a plugin configuration: an existing module with the custom section
// proxy-wasm-as.config-schema appended, as the SDK's build transform writes it.

/** `wasm` with a custom section `name` appended (custom sections may come anywhere). */
export function withCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const content = [...leb128(nameBytes.length), ...nameBytes, ...payload];
  return new Uint8Array([...wasm, 0, ...leb128(content.length), ...content]);
}

/** `wasm` declaring `schema` (an object, or raw text for broken schemas) as its configuration schema. */
export function withConfigSchema(wasm: Uint8Array, schema: object | string): Uint8Array {
  const text = typeof schema === "string" ? schema : JSON.stringify(schema);
  return withCustomSection(wasm, "proxy-wasm-as.config-schema", new TextEncoder().encode(text));
}

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** A schema like the transform writes for json_validation-style filters (draft 2020-12). */
export const KEYS_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "KeysConfig",
  type: "object",
  properties: {
    requiredKeys: { type: "array", items: { type: "string" }, description: "Keys the body must have." },
    mode: { type: "string", enum: ["strict", "lenient"], default: "strict" },
    limit: { type: "integer", minimum: -2147483648, maximum: 2147483647, default: 10 },
    ratio: { type: "number" },
    upstream: { anyOf: [{ $ref: "#/$defs/Upstream" }, { type: "null" }] },
    labels: { type: "object", additionalProperties: { type: "boolean" } },
  },
  required: ["requiredKeys"],
  additionalProperties: false,
  $defs: {
    Upstream: { type: "object", properties: { cluster: { type: "string" }, timeoutMs: { type: "integer", minimum: 0, maximum: 4294967295 } }, required: ["cluster"], additionalProperties: false },
  },
} as const;
