// RecentBytes: whatever its slots hold, a read returns exactly the bytes asked for.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecentBytes, RECENT_BYTES_MAX } from "../../../src/host/recent-bytes";

function memoryWith(...texts: string[]): { memory: Uint8Array; at: number[] } {
  const memory = new Uint8Array(4096);
  const at: number[] = [];
  let offset = 8;
  for (const text of texts) {
    at.push(offset);
    memory.set(Buffer.from(text, "latin1"), offset);
    offset += text.length + 3;
  }
  return { memory, at };
}

test("equal bytes read twice give the same array; its contents are the bytes", () => {
  const recent = new RecentBytes();
  const { memory, at } = memoryWith("x-bench", "x-bench");
  const first = recent.read(memory, at[0], 7);
  assert.equal(Buffer.from(first).toString("latin1"), "x-bench");
  assert.equal(recent.read(memory, at[1], 7), first);
  // Later writes into memory do not reach the array handed out.
  memory.fill(0, at[0], at[0] + 7);
  assert.equal(Buffer.from(first).toString("latin1"), "x-bench");
});

test("bytes competing for one slot never get each other's array", () => {
  const recent = new RecentBytes();
  for (const length of [1, 2, 7, 33, RECENT_BYTES_MAX]) {
    const texts: string[] = [];
    for (let i = 0; i < 600; i++) {
      let text = "";
      for (let j = 0; j < length; j++) text += String.fromCharCode(32 + ((i * (j + 5) + j * 17 + (i >> 2)) % 200));
      texts.push(text);
    }
    const { memory, at } = memoryWith(...texts.slice(0, 1));
    for (const text of texts) {
      // Alternate a fixed text with every other one, in the same place of memory.
      memory.set(Buffer.from(texts[0], "latin1"), at[0]);
      assert.equal(Buffer.from(recent.read(memory, at[0], length)).toString("latin1"), texts[0]);
      memory.set(Buffer.from(text, "latin1"), at[0]);
      assert.equal(Buffer.from(recent.read(memory, at[0], length)).toString("latin1"), text);
    }
  }
});
