import { formatSignature } from "../abi/signature";
import type { ModuleInfo } from "./module-info";

/** A printable summary of a module, for the CLI's `build` output and for test diagnostics. */
export interface ModuleSummary {
  readonly abiVersion: string | null;
  readonly sizeBytes: number;
  /** `module.name: signature` for functions, `module.name: <kind>` otherwise, in import order. */
  readonly imports: readonly string[];
  /** `name: signature` for functions, `name: <kind>` otherwise, in export order. */
  readonly exports: readonly string[];
  readonly allocator: string | null;
  readonly memory: string | null;
  readonly hasStartSection: boolean;
}

/** Plain-data summary of `info`; never throws. */
export function describeModule(info: ModuleInfo): ModuleSummary {
  return {
    abiVersion: info.abiVersion,
    sizeBytes: info.sizeBytes,
    imports: info.imports.map(
      (entry) => `${entry.module}.${entry.name}: ${entry.signature ? formatSignature(entry.signature) : entry.kind}`,
    ),
    exports: info.exports.map(
      (entry) => `${entry.name}: ${entry.signature ? formatSignature(entry.signature) : entry.kind}`,
    ),
    allocator: info.allocator,
    memory: info.memory
      ? `${info.memory.source} ${info.memory.name} (${info.memory.limits.min} pages min${
          info.memory.limits.max === undefined ? "" : `, ${info.memory.limits.max} max`
        })`
      : null,
    hasStartSection: info.hasStartSection,
  };
}

/** Multi-line text rendering of a summary. */
export function formatModuleSummary(summary: ModuleSummary): string {
  const lines = [
    `ABI version: ${summary.abiVersion ?? "none"}`,
    `size: ${summary.sizeBytes} bytes`,
    `memory: ${summary.memory ?? "none"}`,
    `allocator: ${summary.allocator ?? "none"}`,
    `start section: ${summary.hasStartSection ? "yes" : "no"}`,
    `imports (${summary.imports.length}):`,
    ...summary.imports.map((line) => `  ${line}`),
    `exports (${summary.exports.length}):`,
    ...summary.exports.map((line) => `  ${line}`),
  ];
  return lines.join("\n");
}
