// Root registrations and the live contexts, as linked lists: a VM serves a handful of roots
// and the streams in flight, and lists need no generic Array/Map code in every filter.
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { HttpContext } from "./http_context";
import { TcpContext } from "./tcp_context";
import { forgetCalloutsOfContext } from "./callouts";
import * as host from "../runtime/hostcalls";
import { fail } from "../runtime/abort";
import { beginCallback } from "./log";
import { WasmResult } from "../abi/enums";
import { stage, stagedLength, takeString, dropResult } from "../runtime/memory";

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

let registrations: Registration | null = null;
// How proxy_on_context_create picks a registration for a new root. registerRoot installs the
// lookup by root id; a filter that only uses registerDefaultRoot never links that code.
let pickRegistration: () => Registration = pickOnly;
let live: Context | null = null;
let lastFound: Context | null = null;
let creating: Registration | null = null;

/**
 * Registers the root context factory for plugins whose `root_id` is `rootId`. If only one
 * root is registered it serves every root id; with several, the one registered as "" serves
 * ids nobody else claims. Call it from the filter's top level (module start).
 */
export function registerRoot(rootId: string, factory: RootFactory): void {
  registrations = new Registration(rootId, factory, null, registrations);
  pickRegistration = pickByRootId;
}

/**
 * Registers the one root context factory of this module: it serves every plugin, whatever its
 * root_id. The smallest choice for a single-plugin filter (see registerRoot for several).
 */
export function registerDefaultRoot(factory: RootFactory): void {
  registrations = new Registration("", factory, null, registrations);
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
  return new HttpFilterRoot(contextId, changetype<HttpFactory>(changetype<Registration>(creating).httpFactory));
}

/** Shortcut for a stateless HTTP filter: registers a root (see registerRoot) whose only job is
 * to create an HTTP context per stream with `factory`. */
export function registerHttpFilter(rootId: string, factory: HttpFactory): void {
  registrations = new Registration(rootId, createHttpFilterRoot, factory, registrations);
  pickRegistration = pickByRootId;
}

function pickOnly(): Registration {
  const only = registrations;
  if (only === null) fail("no root context registered", "proxy-wasm-as createContext");
  return changetype<Registration>(only);
}

function pickByRootId(): Registration {
  const first = changetype<Registration>(registrations);
  if (first.next === null) return first;
  // Several roots: ask the host which one this plugin is (never during module start).
  const namePtr = stage(0, "plugin_root_id");
  let wanted = "";
  if (host.getProperty(namePtr, stagedLength(0)) == WasmResult.Ok) wanted = takeString();
  else dropResult();
  let chosen: Registration | null = null;
  for (let entry: Registration | null = registrations; entry !== null; entry = changetype<Registration>(entry).next) {
    if (entry.rootId == wanted) return entry;
    if (entry.rootId.length == 0) chosen = entry;
  }
  if (chosen === null) fail("no root context for root_id", "proxy-wasm-as createContext");
  return changetype<Registration>(chosen);
}

/** @internal proxy_on_context_create. */
export function createContext(contextId: u32, parentId: u32): void {
  let context: Context;
  if (parentId == 0) {
    const registration = pickRegistration();
    creating = registration;
    context = registration.factory(contextId);
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
  context.nextLive = live;
  live = context;
  lastFound = context;
}

/** @internal The live context with this id, or null. Called once at the start of every
 * callback, so it also resets the per-callback log level cache. */
export function findContext(id: u32): Context | null {
  beginCallback();
  const cached = lastFound;
  if (cached !== null && cached.id == id) return cached;
  for (let context: Context | null = live; context !== null; context = changetype<Context>(context).nextLive) {
    if (context.id == id) {
      lastFound = context;
      return context;
    }
  }
  return null;
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
  let previous: Context | null = null;
  for (let context: Context | null = live; context !== null; context = changetype<Context>(context).nextLive) {
    if (context.id == id) {
      if (previous === null) live = context.nextLive;
      else previous.nextLive = context.nextLive;
      context.nextLive = null;
      break;
    }
    previous = context;
  }
  lastFound = null;
  forgetCalloutsOfContext(id);
}

/** Number of live contexts (for tests and diagnostics). */
export function liveContextCount(): i32 {
  let count = 0;
  for (let context: Context | null = live; context !== null; context = changetype<Context>(context).nextLive) count++;
  return count;
}
