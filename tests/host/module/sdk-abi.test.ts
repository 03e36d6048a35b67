/**
 * Checks a real filter built with our AssemblyScript SDK against the ABI tables, name by name
 * and signature by signature, so that an SDK change that would break loading in Envoy fails here.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { CALLBACKS, findHostImport, formatSignature } from "../../../src/host/abi";
import { checkModule, findFunctionExport, inspectModule, loadCheckedModule, type ModuleInfo } from "../../../src/host/module";

const WASM_PATH = fileURLToPath(new URL("../../../examples/add_header/build/add_header.wasm", import.meta.url));

function loadFilter(): ModuleInfo {
  assert.ok(
    existsSync(WASM_PATH),
    `${WASM_PATH} is missing: run \`npm run build\` first (it builds the examples with the release target)`,
  );
  return inspectModule(readFileSync(WASM_PATH));
}

describe("SDK-built filter (examples/add_header) matches ABI 0.2.1", () => {
  it("loads with no problem and declares exactly one marker, 0.2.1", () => {
    const info = loadFilter();
    assert.deepEqual(checkModule(info), []);
    assert.equal(loadCheckedModule(readFileSync(WASM_PATH)).info.abiVersion, "0.2.1");
    assert.deepEqual(info.abiMarkerExports, ["proxy_abi_version_0_2_1"]);
    assert.deepEqual(findFunctionExport(info, "proxy_abi_version_0_2_1")?.signature, { params: [], results: [] });
  });

  it("imports only env.proxy_* hostcalls registered for 0.2.1, each with the host's signature", () => {
    const info = loadFilter();
    assert.ok(info.imports.length > 0);
    for (const entry of info.imports) {
      const key = `${entry.module}.${entry.name}`;
      assert.equal(entry.kind, "function", `${key} is a ${entry.kind} import`);
      assert.equal(entry.module, "env", `${key}: only env imports expected`);
      assert.ok(entry.name.startsWith("proxy_"), `${key}: only proxy_* imports expected (no abort/trace/seed)`);
      const spec = findHostImport("0.2.1", entry.module, entry.name);
      assert.ok(spec, `${key} is not registered for ABI 0.2.1`);
      assert.equal(formatSignature(entry.signature!), formatSignature(spec.signature), key);
    }
  });

  it("exports the 0.2.1 callbacks of §1.4 it implements (the SDK's export transform drops the rest), each with its exact signature", () => {
    const info = loadFilter();
    const callbacks = CALLBACKS.filter((spec) => spec.kind === "proxy" && spec.versions.includes("0.2.1"));
    assert.equal(callbacks.length, 28);
    const exported = callbacks.filter((spec) => findFunctionExport(info, spec.name) !== undefined);
    assert.deepEqual(
      exported.map((spec) => spec.name).sort(),
      ["proxy_on_configure", "proxy_on_context_create", "proxy_on_delete", "proxy_on_response_headers"],
    );
    for (const spec of exported) {
      assert.equal(formatSignature(findFunctionExport(info, spec.name)!.signature!), formatSignature(spec.signature), spec.name);
    }
  });

  it("exports both allocators (malloc is the one the host uses) and _initialize, with no start section", () => {
    const info = loadFilter();
    for (const name of ["malloc", "proxy_on_memory_allocate"]) {
      assert.equal(formatSignature(findFunctionExport(info, name)?.signature ?? { params: [], results: [] }), "i32 -> i32", name);
    }
    assert.equal(info.allocator, "malloc");
    assert.equal(formatSignature(findFunctionExport(info, "_initialize")!.signature!), "void -> void");
    assert.equal(findFunctionExport(info, "_start"), undefined);
    assert.equal(info.hasStartSection, false);
    assert.equal(info.memory?.source, "exported");
  });
});
