/**
 * A context as the host sees it (reference §4.4, §4.9, §4.11): its id, its plugin, and the state
 * hostcalls act on. Drivers fill the header maps and buffers that are available in the callback
 * they are about to run; hostcalls record stream-control requests that the driver applies after
 * the callback returns (Envoy defers them).
 */
import type { BodyBuffer } from "./body-buffer";
import type { HeaderMap } from "./header-map";
import type { PluginInfo } from "./plugin-info";
import type { TimerHandle } from "./scheduler";
import type { StreamInfo } from "./stream-info";

export type ContextKind = "root" | "http" | "tcp";

/** A local response requested with `proxy_send_local_response`. */
export interface LocalReply {
  readonly status: number;
  /** Response-code details, whitespace replaced by `_` as Envoy does. */
  readonly details: string;
  readonly body: Uint8Array;
  readonly headers: HeaderMap;
  /** 0..16, or undefined when the plugin passed a value outside that range. */
  readonly grpcStatus: number | undefined;
}

/** What a driver exposes so the VM can apply requests made from another context's callback. */
export interface PendingActionHandler {
  /** Applies continue/close/local reply requested for this context; called after the callback returns. */
  applyPendingActions(): void;
  /**
   * The VM failed in a callback that was not this stream's own (a callout response, gRPC event,
   * tick, queue notification, or another stream's callback): a stream paused in the filter gets
   * its failure policy now instead of waiting for an event that may never come. Called once per
   * live stream context, after the failing callback returned; a stream not paused does nothing.
   */
  vmFailed(): void;
}

export class Context {
  /** Header maps available now, indexed by map type; null = unavailable. */
  readonly headerMaps: (HeaderMap | null)[] = [null, null, null, null, null, null, null, null];
  /** Bit n set = map type n is writable now. */
  writableMaps = 0;
  /** True while `proxy_on_log` runs: maps are read-only and a missing map reads as NotFound. */
  inLogPhase = false;
  /** Buffers 0..5 available now (see §4.11); null = not held. */
  readonly buffers: (BodyBuffer | null)[] = [null, null, null, null, null, null];

  /** Bit n set = `proxy_continue_stream(n)` requested during the current callback. */
  pendingContinue = 0;
  /** Bit n set = `proxy_close_stream(n)` requested. */
  pendingClose = 0;
  /** Local reply requested and not yet applied. */
  pendingLocalReply: LocalReply | null = null;
  /** The driver that owns this stream context, if any. */
  driver: PendingActionHandler | null = null;
  /** Request/connection data for properties; null for root contexts. */
  streamInfo: StreamInfo | null = null;

  // Root-context state.
  /** `proxy_get_status` code and message, set by callout failures and gRPC closes. */
  statusCode = 0;
  statusMessage = "";
  /** True while the plugin configuration (buffer 7) is readable: root create during start, configure. */
  configurationReadable = false;
  /** True after `proxy_on_done` returned 0: waiting for `proxy_done`. */
  pendingDone = false;
  /** True once `proxy_done` was called while pending. */
  doneRequested = false;
  deleted = false;
  /** Tick period set with `proxy_set_tick_period_milliseconds`; 0 = no timer. */
  tickPeriodMs = 0;
  /** The armed tick timer, if any. */
  tickTimer: TimerHandle | null = null;

  constructor(
    readonly id: number,
    readonly kind: ContextKind,
    readonly plugin: PluginInfo,
    /** The root context; a root context points to itself. */
    root: Context | null,
  ) {
    this.root = root ?? this;
  }

  readonly root: Context;

  get isRoot(): boolean {
    return this.kind === "root";
  }

  /** Makes nothing available: called when a callback returns and the data is no longer held. */
  clearAvailability(): void {
    for (let i = 0; i < this.headerMaps.length; i++) this.headerMaps[i] = null;
    for (let i = 0; i < this.buffers.length; i++) this.buffers[i] = null;
    this.writableMaps = 0;
    this.inLogPhase = false;
  }
}
