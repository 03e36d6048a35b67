/**
 * Process-wide key/value store partitioned by vm_id, with one global CAS counter (reference §5.11).
 */
import { Result, type ResultCode } from "./constants";

interface Entry {
  value: Uint8Array;
  cas: number;
}

export class SharedDataStore {
  private readonly byVmId = new Map<string, Map<string, Entry>>();
  private nextCas = 1;

  /** The value and CAS of `key` in `vmId`'s partition, or undefined when missing. */
  get(vmId: string, key: string): Entry | undefined {
    return this.byVmId.get(vmId)?.get(key);
  }

  /**
   * cas 0 writes unconditionally; a non-zero cas must match the stored one when the key exists
   * (`CasMismatch` otherwise); a missing key is written whatever the cas.
   */
  set(vmId: string, key: string, value: Uint8Array, cas: number): ResultCode {
    let partition = this.byVmId.get(vmId);
    if (partition === undefined) this.byVmId.set(vmId, (partition = new Map()));
    const existing = partition.get(key);
    if (cas !== 0 && existing !== undefined && existing.cas !== cas) return Result.CasMismatch;
    partition.set(key, { value: value.slice(), cas: this.allocateCas() });
    return Result.Ok;
  }

  /** Keys of one partition, for tests and the admin page. */
  keys(vmId: string): string[] {
    return [...(this.byVmId.get(vmId)?.keys() ?? [])];
  }

  /** Drops a partition; Envoy does so when the last VM with that vm_id goes away. */
  dropVmId(vmId: string): void {
    this.byVmId.delete(vmId);
  }

  private allocateCas(): number {
    const cas = this.nextCas;
    this.nextCas = this.nextCas >= 0xffffffff ? 1 : this.nextCas + 1;
    return cas;
  }
}
