import type { Context } from "./context";

/**
 * The live contexts of a VM by id: a few roots plus the streams in flight.
 *
 * Not a `Map`: a Map that gains and loses an entry per request reallocates its hash table every
 * few dozen requests, and V8 links each old table to its successor. Once an old table has been
 * promoted to the old generation, that link keeps the new table, and through it every context in
 * flight with its stream and headers, alive through young-generation collections until a full
 * collection; in the dev proxy this promoted most per-request objects and tripled the scavenge
 * time. Parallel arrays that are only overwritten in place have no such chain.
 */
export class ContextTable {
  private ids: number[] = [];
  private entries: Context[] = [];

  get size(): number {
    return this.ids.length;
  }

  get(id: number): Context | undefined {
    const ids = this.ids;
    // Newest first: the stream a callback is about is usually the latest one.
    for (let i = ids.length - 1; i >= 0; i--) if (ids[i] === id) return this.entries[i];
    return undefined;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `context` under `id` (ids are never reused while live). */
  set(id: number, context: Context): void {
    this.ids.push(id);
    this.entries.push(context);
  }

  /** The live contexts, oldest first, as a copy (callers may delete contexts while walking it). */
  snapshot(): Context[] {
    return this.entries.slice();
  }

  /** Forgets `id`; true when it was there. */
  delete(id: number): boolean {
    const ids = this.ids;
    for (let i = ids.length - 1; i >= 0; i--) {
      if (ids[i] !== id) continue;
      const entries = this.entries;
      const last = ids.length - 1;
      // Keeps the order of the others: roots (oldest) stay at the front.
      for (let j = i; j < last; j++) {
        ids[j] = ids[j + 1];
        entries[j] = entries[j + 1];
      }
      // pop() rather than a length assignment: the latter is a slow path in V8.
      ids.pop();
      entries.pop();
      return true;
    }
    return false;
  }
}
