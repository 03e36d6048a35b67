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
  assert.deepEqual([1, 2, 4].map((id) => table.get(id)), [root, a, c]);
  assert.equal(table.delete(1), true);
  assert.equal(table.delete(4), true);
  assert.equal(table.size, 1);
  assert.equal(table.get(2), a);
  assert.equal(table.get(99), undefined);
});
