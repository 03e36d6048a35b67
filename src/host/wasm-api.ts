/**
 * The slice of the WebAssembly JS API the host uses. Neither lib ES2022 nor @types/node 20 declare
 * the `WebAssembly` namespace, so the host types the global itself.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: WasmImports) => WasmInstance;
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  readonly Table: new (descriptor: { element: "anyfunc" | "externref"; initial: number; maximum?: number }) => object;
  readonly RuntimeError: new (message?: string) => Error;
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
