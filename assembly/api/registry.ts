// Root registrations and the live contexts. A VM serves a handful of roots and the streams in
// flight. The live contexts sit in one raw table of (id, address) pairs: lookups walk plain
// memory (no managed locals, so no shadow-stack code with the incremental runtime), and each
// context is pinned while it is live, which is what keeps it from being collected.
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { HttpContext } from "./http_context";
import { TcpContext } from "./tcp_context";
import { forgetCalloutsOfContext } from "./callouts";
import * as host from "../runtime/hostcalls";
import { fail } from "../runtime/abort";
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
let pickFactory: () => RootFactory = pickDefault;
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
  createHttpContext(contextId: u32): HttpContext | null {
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

function pickDefault(): RootFactory {
  const factory = defaultFactory;
  if (factory === null) fail("no root registered", "proxy-wasm-as createContext");
  return changetype<RootFactory>(factory);
}

function chosen(entry: Registration): RootFactory {
  creatingHttp = entry.httpFactory;
  return entry.factory;
}

function pickByRootId(): RootFactory {
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
  return pickDefault();
}

// The live contexts: `liveCount` entries of (id: u32, address: u32) at `table`, in a raw
// block of `capacity` entries that doubles when full.
let table: usize = 0;
let liveCount: u32 = 0;
let capacity: u32 = 0;
// One-entry cache of the last lookup: the callbacks of one stream arrive back to back.
let lastId: u32 = 0;
let lastAddress: usize = 0;

function keepLive(id: u32, address: usize): void {
  __pin(address);
  if (liveCount == capacity) {
    capacity = capacity * 2 + 8;
    const grown = heap.alloc(<usize>capacity << 3);
    memory.copy(grown, table, <usize>liveCount << 3);
    heap.free(table);
    table = grown;
  }
  const entry = table + (<usize>liveCount << 3);
  liveCount++;
  store<u32>(entry, id);
  store<u32>(entry, <u32>address, 4);
  lastId = id;
  lastAddress = address;
}

// Address of the table entry for `id`, or 0.
function entryOf(id: u32): usize {
  const end = table + (<usize>liveCount << 3);
  for (let entry = table; entry < end; entry += 8) {
    if (load<u32>(entry) == id) return entry;
  }
  return 0;
}

/** @internal proxy_on_context_create. */
export function createContext(contextId: u32, parentId: u32): void {
  let context: Context;
  if (parentId == 0) {
    context = pickFactory()(contextId);
  } else {
    const root = changetype<RootContext>(getContext(parentId, ContextKind.Root));
    const http = root.createHttpContext(contextId);
    if (http !== null) {
      context = http;
    } else {
      const tcp = root.createTcpContext(contextId);
      if (tcp === null) fail("root made no stream context", "proxy-wasm-as createContext");
      context = changetype<TcpContext>(tcp);
    }
  }
  keepLive(contextId, changetype<usize>(context));
}

/** @internal The live context with this id, or null. Called once at the start of every
 * callback, so it also resets the per-callback log level cache. */
export function findContext(id: u32): Context | null {
  beginCallback();
  if (lastAddress == 0 || lastId != id) {
    const entry = entryOf(id);
    if (entry == 0) return null;
    lastId = id;
    lastAddress = <usize>load<u32>(entry, 4);
  }
  return changetype<Context>(lastAddress);
}

/** @internal The live context with this id and kind; stops the module if the host names an unknown
 * context or sends a callback of another kind (a broken host contract). */
export function getContext(id: u32, kind: ContextKind): Context {
  const context = findContext(id);
  if (context === null || context.kind != kind) fail("bad context id or kind", "proxy-wasm-as getContext");
  return changetype<Context>(context);
}

/** @internal proxy_on_delete: forgets the context and its pending callouts. */
export function deleteContext(id: u32): void {
  const entry = entryOf(id);
  if (entry != 0) {
    __unpin(<usize>load<u32>(entry, 4));
    // The last entry fills the hole: the order of the table does not matter.
    liveCount--;
    store<u64>(entry, load<u64>(table + (<usize>liveCount << 3)));
  }
  lastAddress = 0;
  forgetCalloutsOfContext(id);
}

/** Number of live contexts (for tests and diagnostics). */
export function liveContextCount(): i32 {
  return <i32>liveCount;
}
