/**
 * The spec module as the filter under test: the SDK's own specs (and any spec that registers its
 * own root context) are Proxy-Wasm modules themselves, so the project's host can load them. as-pect
 * instantiates the module; its `env.proxy_*` (and WASI) imports are forwarders that call the host's
 * hostcalls once a spec starts its `TestHost`, and the host adopts as-pect's instance instead of
 * creating its own (`VmOptions.instantiate`). One module, one memory, one host: the spec drives
 * the SDK through real callbacks and reads real host state.
 */
import { inspectModule, type ExtraHostFunction } from "../../host/module";
import { WASI_MODULES } from "../../host/wasi";
import type { WasmImports, WasmInstance } from "../../host/wasm-api";

/** True for an import the Proxy-Wasm host provides (a hostcall or a WASI function). */
function isHostImport(module: string, name: string): boolean {
  return (module === "env" && name.startsWith("proxy_")) || (WASI_MODULES as readonly string[]).includes(module);
}

export const ONE_VM_MESSAGE = "the spec module is the filter and hosts one VM: start one TestHost per spec file (a global shared by its tests), with the default fail_closed policy";

export class SpecModuleFilter {
  /** The module's other function imports (as-pect's, the test API's, AssemblyScript's abort/trace). */
  readonly extraHostFunctions: readonly ExtraHostFunction[];
  private readonly hostcallNames: readonly { readonly module: string; readonly name: string }[];
  private hostImports: WasmImports | null = null;
  private instance: WasmInstance | null = null;

  constructor(readonly binary: Uint8Array) {
    const imports = inspectModule(binary).imports.filter((entry) => entry.kind === "function");
    this.hostcallNames = imports.filter((entry) => isHostImport(entry.module, entry.name));
    this.extraHostFunctions = imports
      .filter((entry) => !isHostImport(entry.module, entry.name) && entry.signature !== undefined)
      .map((entry) => ({ module: entry.module, name: entry.name, signature: entry.signature! }));
  }

  /**
   * The host's imports of the module as forwarders, for as-pect's instantiation. A hostcall made
   * before the spec started its `TestHost` throws (as-pect then fails the test with that text).
   */
  forwarders(): WasmImports {
    const out: WasmImports = {};
    for (const { module, name } of this.hostcallNames) {
      (out[module] ??= {})[name] = (...args: unknown[]) => {
        const target = this.hostImports?.[module]?.[name];
        if (typeof target !== "function") {
          throw new Error(`${module}.${name} was called before the spec started its TestHost (the spec module is the filter: start \`new TestHost().start()\` first)`);
        }
        return (target as (...a: unknown[]) => unknown)(...args);
      };
    }
    return out;
  }

  /** True once a host adopted the instance. */
  get hosted(): boolean {
    return this.hostImports !== null;
  }

  /** Records the instance as-pect created; the host adopts it when the spec starts its TestHost. */
  adopt(instance: WasmInstance): void {
    this.instance = instance;
  }

  /**
   * `VmOptions.instantiate` for the host: links the host's imports to the forwarders and returns
   * as-pect's instance. A module has one memory and one SDK state, so it hosts one VM.
   *
   * @throws Error for a second VM (a second `TestHost`, or a reload after a failure).
   */
  readonly instantiate = (_module: object, imports: WasmImports): WasmInstance => {
    if (this.instance === null) throw new Error("the spec module is not instantiated yet");
    if (this.hostImports !== null) throw new Error(ONE_VM_MESSAGE);
    this.hostImports = imports;
    return this.instance;
  };
}
