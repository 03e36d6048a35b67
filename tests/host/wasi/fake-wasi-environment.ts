import type { WasiEnvironment } from "../../../src/host/wasi";

/** A WasiEnvironment over a plain ArrayBuffer that records every log call. */
export interface FakeWasi {
  readonly env: WasiEnvironment;
  readonly logs: Array<[level: number, message: string]>;
  readonly hostLogs: Array<[level: number, message: string]>;
  /** The current memory; `grow` replaces it like `memory.grow` detaches the old buffer. */
  buffer: ArrayBuffer;
  bytes(): Uint8Array;
  view(): DataView;
  grow(bytes: number): void;
  randomRequests: number[];
}

export function fakeWasi(options: { size?: number; environment?: Array<[string, string]> } = {}): FakeWasi {
  const fake: FakeWasi = {
    logs: [],
    hostLogs: [],
    randomRequests: [],
    buffer: new ArrayBuffer(options.size ?? 1024),
    bytes: () => new Uint8Array(fake.buffer),
    view: () => new DataView(fake.buffer),
    grow(bytes: number) {
      const next = new ArrayBuffer(fake.buffer.byteLength + bytes);
      new Uint8Array(next).set(new Uint8Array(fake.buffer));
      fake.buffer = next;
    },
    env: {
      memory: () => fake.buffer,
      log: (level, message) => fake.logs.push([level, message]),
      hostLog: (level, message) => fake.hostLogs.push([level, message]),
      environment: options.environment ?? [],
      now: () => 1_700_000_000_123_456_789n,
      monotonic: () => 42n,
      randomBytes: (n) => {
        fake.randomRequests.push(n);
        return new Uint8Array(n).fill(0xab);
      },
    },
  };
  return fake;
}

/** Writes `text` at `pointer` and returns its byte length. */
export function putString(fake: FakeWasi, pointer: number, text: string): number {
  const data = new TextEncoder().encode(text);
  fake.bytes().set(data, pointer);
  return data.length;
}

/** Writes iovecs (pointer, length pairs) at `pointer`. */
export function putIovecs(fake: FakeWasi, pointer: number, iovecs: Array<[number, number]>): void {
  iovecs.forEach(([buf, len], i) => {
    fake.view().setUint32(pointer + i * 8, buf, true);
    fake.view().setUint32(pointer + i * 8 + 4, len, true);
  });
}
