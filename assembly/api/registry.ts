// Root registrations and the live contexts. A VM serves a handful of roots and the streams in
// flight. The live contexts sit in one raw table of (id, address) pairs: lookups walk plain
// memory (no managed locals, so no shadow-stack code with the incremental runtime), and each
// context is pinned while it is live, which is what keeps it from being collected.
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { HttpContext } from "./http_context";
import { TcpContext } from "./tcp_context";
import { forgetCalloutsOfContext } from "./callouts";
import { passThrough, passesThrough, endPassThrough } from "./pass_through";
import { passesAsOtherKind } from "./stream_kind_mismatch";
import * as host from "../runtime/hostcalls";
import { fail, Word } from "../runtime/abort";
import { beginCallback } from "./log";
import { WasmResult } from "../abi/enums";
import { stageText, stagedLength, takeString, dropResult } from "../runtime/memory";

/** Creates the root context for a plugin; gets the host's context id. */
export type RootFactory = (contextId: u32) => RootContext;
/** Creates the context of one HTTP stream of a registerHttpFilter plugin. */
export type HttpFactory = (contextId: u32, root: RootContext) => HttpContext;

class Registration {
  constructor(
    public readonly rootId: string,
    public readonly factory: RootFactory,
    // Set for registerHttpFilter: functions cannot capture, so the shared root factory
    // reads the stream factory from here.
    public readonly httpFactory: HttpFactory | null,
    public readonly next: Registration | null,
  ) {}
}

// registerDefaultRoot only sets this global: a single-plugin filter builds no registration
// object at start.
let defaultFactory: RootFactory | null = null;
let registrations: Registration | null = null;
// How proxy_on_context_create picks the factory of a new root. registerRoot installs the
// lookup by root id; a filter that only uses registerDefaultRoot never links that code.
// It answers the factory's address: a returned reference would take a shadow-stack slot.
let pickFactory: () => usize = pickDefault;
let creatingHttp: HttpFactory | null = null;

/**
 * Registers the root context factory for plugins whose `root_id` is `rootId`. If only one
 * root is registered it serves every root id; with several, the one registered as "" serves
 * ids nobody else claims. Call it from the filter's top level (module start).
 */
export function registerRoot(rootId: string, factory: RootFactory): void {
  registrations = new Registration(rootId, factory, null, registrations);
  pickFactory = pickByRootId;
}

/**
 * Registers the one root context factory of this module: it serves every plugin, whatever its
 * root_id. The smallest choice for a single-plugin filter (see registerRoot for several; when
 * both are used, this one serves the root ids no registerRoot claims).
 */
export function registerDefaultRoot(factory: RootFactory): void {
  defaultFactory = factory;
}

class HttpFilterRoot extends RootContext {
  constructor(id: u32, private readonly factory: HttpFactory) {
    super(id);
  }
  // Not nullable: the build transform then knows this root always makes a stream context.
  createHttpContext(contextId: u32): HttpContext {
    return this.factory(contextId, this);
  }
}

function createHttpFilterRoot(contextId: u32): RootContext {
  return new HttpFilterRoot(contextId, changetype<HttpFactory>(creatingHttp));
}

/** Shortcut for a stateless HTTP filter: registers a root (see registerRoot) whose only job is
 * to create an HTTP context per stream with `factory`. */
export function registerHttpFilter(rootId: string, factory: HttpFactory): void {
  registrations = new Registration(rootId, createHttpFilterRoot, factory, registrations);
  pickFactory = pickByRootId;
}

function pickDefault(): usize {
  if (defaultFactory === null) fail(Word.NoRoot);
  return changetype<usize>(defaultFactory);
}

function chosen(entry: Registration): RootFactory {
  creatingHttp = entry.httpFactory;
  return entry.factory;
}

function pickByRootId(): usize {
  return changetype<usize>(factoryForRootId());
}

function factoryForRootId(): RootFactory {
  const first = changetype<Registration>(registrations);
  if (first.next === null && defaultFactory === null) return chosen(first);
  // Several roots: ask the host which one this plugin is (never during module start).
  const namePtr = stageText(0, changetype<usize>("plugin_root_id"));
  let wanted = "";
  if (host.getProperty(namePtr, stagedLength(0)) == WasmResult.Ok) wanted = takeString();
  else dropResult();
  let fallback: Registration | null = null;
  for (let entry: Registration | null = registrations; entry !== null; entry = changetype<Registration>(entry).next) {
    if (entry.rootId == wanted) return chosen(entry);
    if (entry.rootId.length == 0) fallback = entry;
  }
  if (fallback !== null) return chosen(changetype<Registration>(fallback));
  return changetype<RootFactory>(pickDefault());
}

// The live contexts: `liveCount` addresses at the start of `liveTable`, a managed array of
// `capacity` slots that doubles when full. Being a managed array reachable from a global is
// what keeps each live context from being collected (cheaper than pinning: no pin-list code
// and no runtime error texts); lookups walk it as plain memory (no managed locals, so no
// shadow-stack code) and read each context's id from the context itself.
let liveTable: StaticArray<Context> | null = null;
let liveCount: u32 = 0;
let capacity: u32 = 0;
// One-entry cache of the last lookup (0 = none; the id is read from the context itself): the
// callbacks of one stream arrive back to back.
let lastAddress: usize = 0;

// Makes room for one more entry. Called before the context exists: growing allocates, and
// an allocation may run the collector, which must not find the new context unreferenced.
function reserveEntry(): void {
  if (liveCount == capacity) {
    capacity = capacity * 2 + 8;
    const grown = __new(<usize>capacity << alignof<usize>(), idof<StaticArray<Context>>());
    const used = <usize>liveCount << alignof<usize>();
    memory.copy(grown, changetype<usize>(liveTable), used);
    // The minimal runtime's __new does not clear the block, and the collector visits every slot.
    memory.fill(grown + used, 0, (<usize>capacity << alignof<usize>()) - used);
    // A global is a root the collector rescans before it sweeps: the copied references stay
    // reachable without a write barrier each.
    liveTable = changetype<StaticArray<Context>>(grown);
  }
}

function keepLive(address: usize): void {
  const table = changetype<usize>(liveTable);
  store<usize>(table + (<usize>liveCount << alignof<usize>()), address);
  liveCount++;
  __link(table, address, false);
  lastAddress = address;
}

// Fields read through the address: a reference made by changetype would take a frame slot.
// @ts-ignore: decorator
@inline function idAt(context: usize): u32 {
  return load<u32>(context, offsetof<Context>("id"));
}

// Address of the table slot holding the context `id`, or 0.
function slotOf(id: u32): usize {
  const table = changetype<usize>(liveTable);
  const end = table + (<usize>liveCount << alignof<usize>());
  for (let slot = table; slot < end; slot += sizeof<usize>()) {
    if (idAt(load<usize>(slot)) == id) return slot;
  }
  return 0;
}

/** @internal proxy_on_context_create. */
export function createContext(contextId: u32, parentId: u32): void {
  reserveEntry();
  // Addresses, not references: the new context is not held by any frame until keepLive
  // links it, and nothing in between allocates except the context itself.
  let context: usize;
  if (parentId == 0) {
    context = changetype<usize>(changetype<RootFactory>(pickFactory())(contextId));
  } else {
    const root = getContextAddress(parentId, ContextKind.Root);
    context = changetype<usize>(changetype<RootContext>(root).createHttpContext(contextId));
    if (context == 0) {
      context = changetype<usize>(changetype<RootContext>(root).createTcpContext(contextId));
      if (context == 0) {
        passThrough(contextId, parentId);
        return;
      }
    }
  }
  keepLive(context);
}

/** @internal Address of the live context with this id, or 0. Called once at the start of
 * every callback, so it also resets the per-callback log level cache. */
export function findContextAddress(id: u32): usize {
  beginCallback();
  if (lastAddress == 0 || idAt(lastAddress) != id) {
    const slot = slotOf(id);
    if (slot == 0) return 0;
    lastAddress = load<usize>(slot);
  }
  return lastAddress;
}

/** @internal The live context with this id, or null (see findContextAddress). */
export function findContext(id: u32): Context | null {
  return changetype<Context | null>(findContextAddress(id));
}

/** @internal Address of the live context with this id and kind, or 0 for a stream callback on a
 * stream that passes through: its root made no stream context (see pass_through.ts), or one of
 * the other stream kind (see stream_kind_mismatch.ts). Stops the module if the host names an
 * unknown context, or a root context for a stream callback or the other way round (a broken
 * host contract). */
export function getContextAddress(id: u32, kind: ContextKind): usize {
  const context = findContextAddress(id);
  if (context != 0) {
    if (load<i32>(context, offsetof<Context>("kind")) == kind) return context;
    if (passesAsOtherKind(context, kind)) return 0;
  } else if (kind != ContextKind.Root && passesThrough(id)) return 0;
  fail(Word.BadContext);
  return 0;
}

/** @internal The live context with this id and kind, or null for a stream that passes through
 * (see getContextAddress). */
export function getContext(id: u32, kind: ContextKind): Context | null {
  return changetype<Context | null>(getContextAddress(id, kind));
}

/** @internal proxy_on_delete: forgets the context and its pending callouts. */
export function deleteContext(id: u32): void {
  const slot = slotOf(id);
  if (slot != 0) {
    // The last entry fills the hole (the order does not matter); the vacated slot is cleared so
    // the table no longer keeps the deleted context alive.
    liveCount--;
    const last = changetype<usize>(liveTable) + (<usize>liveCount << alignof<usize>());
    store<usize>(slot, load<usize>(last));
    store<usize>(last, 0);
  } else {
    endPassThrough(id);
  }
  lastAddress = 0;
  forgetCalloutsOfContext(id);
}

/** Number of live contexts (for tests and diagnostics). */
export function liveContextCount(): i32 {
  return <i32>liveCount;
}
