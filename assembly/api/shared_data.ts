// Shared key/value data (per vm_id, across VMs and threads) with compare-and-swap, and shared
// queues. Legal in any callback after module start.
import { WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { utf8Decode } from "../runtime/utf8";
import { OUT_U32, stageText, stagedLength, bufferLength, takeBytes, dropResult, expectBuffer, takeBuffer } from "../runtime/memory";

/** A shared-data value and the CAS that guards the next write. */
export class SharedData {
  constructor(
    /** The stored bytes. */
    public readonly value: ArrayBuffer,
    /** The version of the value: pass it to setSharedData to write only if nobody wrote since
     * (CasMismatch otherwise). */
    public readonly cas: u32,
  ) {}

  /** The value as UTF-8 text. */
  get text(): string {
    return utf8Decode(changetype<usize>(this.value), this.value.byteLength);
  }
}

/** The value under `key`, or null if absent (lastResult() NotFound). */
export function getSharedData(key: string): SharedData | null {
  const keyPtr = stageText(0, changetype<usize>(key));
  // The host writes the value straight into the buffer the SharedData keeps (see expectBuffer):
  // no copy and no allocator block per read.
  expectBuffer();
  const found = host.getSharedData(keyPtr, stagedLength(0)) == WasmResult.Ok;
  const cas = load<u32>(OUT_U32);
  const value = takeBuffer();
  return found ? new SharedData(value, cas) : null;
}

/** Writes `value` under `key`. `cas` 0 writes unconditionally; otherwise CasMismatch if the
 * key changed since the read that returned `cas`. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResult {
  const keyPtr = stageText(0, changetype<usize>(key));
  return host.setSharedData(keyPtr, stagedLength(0), changetype<usize>(value), bufferLength(value), cas);
}

/** setSharedData with a UTF-8 value. */
export function setSharedDataText(key: string, value: string, cas: u32 = 0): WasmResult {
  const keyPtr = stageText(0, changetype<usize>(key));
  const valuePtr = stageText(1, changetype<usize>(value));
  return host.setSharedData(keyPtr, stagedLength(0), valuePtr, stagedLength(1), cas);
}

/** Registers (or re-registers) queue `name` of this VM id; the calling plugin's root context
 * then gets onQueueReady for it. Returns the queue id (never 0 in Envoy), or 0 on failure. */
export function registerSharedQueue(name: string): u32 {
  const namePtr = stageText(0, changetype<usize>(name));
  return host.registerSharedQueue(namePtr, stagedLength(0)) == WasmResult.Ok ? load<u32>(OUT_U32) : 0;
}

/** The id of queue `name` registered by VM `vmId` ("" = this VM's id), or 0 (NotFound). */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  const vmIdPtr = stageText(0, changetype<usize>(vmId));
  const namePtr = stageText(1, changetype<usize>(name));
  return host.resolveSharedQueue(vmIdPtr, stagedLength(0), namePtr, stagedLength(1)) == WasmResult.Ok ? load<u32>(OUT_U32) : 0;
}

/** Appends an item; NotFound for an unknown queue. */
export function enqueueSharedQueue(queueId: u32, data: ArrayBuffer): WasmResult {
  return host.enqueueSharedQueue(queueId, changetype<usize>(data), data.byteLength);
}

/** enqueueSharedQueue with UTF-8 text. */
export function enqueueSharedQueueText(queueId: u32, text: string): WasmResult {
  const ptr = stageText(0, changetype<usize>(text));
  return host.enqueueSharedQueue(queueId, ptr, stagedLength(0));
}

/** Pops the oldest item, or null (lastResult(): Empty, or NotFound for an unknown queue). */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  if (host.dequeueSharedQueue(queueId) != WasmResult.Ok) {
    dropResult();
    return null;
  }
  return takeBytes();
}
