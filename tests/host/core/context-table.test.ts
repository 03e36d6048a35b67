import { test } from "node:test";
import assert from "node:assert/strict";
import { ContextTable } from "../../../src/host/context-table";
import type { Context } from "../../../src/host/context";

const ctx = (id: number): Context => ({ id }) as unknown as Context;

test("ContextTable: get, has, delete and size keep the other entries and their order", () => {
  const table = new ContextTable();
  const [root, a, b, c] = [ctx(1), ctx(2), ctx(3), ctx(4)];
  table.set(1, root);
  table.set(2, a);
  table.set(3, b);
  table.set(4, c);
  assert.equal(table.size, 4);
  assert.equal(table.get(3), b);
  assert.equal(table.delete(3), true);
  assert.equal(table.delete(3), false, "a second delete finds nothing");
  assert.equal(table.get(3), undefined);
  assert.equal(table.has(3), false);
  assert.equal(table.has(4), true);
  assert.equal(table.size, 3);
  assert.deepEqual([...table.values()].map((context) => context.id), [1, 2, 4]);
  assert.deepEqual([...table].map(([id]) => id), [1, 2, 4]);
  assert.equal(table.delete(1), true);
  assert.equal(table.delete(4), true);
  assert.deepEqual([...table.values()], [a]);
  assert.equal(table.get(99), undefined);
});

test("ContextTable: values() is a snapshot, so deleting while iterating visits every context once", () => {
  const table = new ContextTable();
  for (let id = 1; id <= 5; id++) table.set(id, ctx(id));
  const seen: number[] = [];
  for (const context of table.values()) {
    seen.push(context.id);
    table.delete(context.id);
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(table.size, 0);
});
