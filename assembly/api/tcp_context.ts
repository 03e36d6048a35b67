import { FilterStatus, PeerType } from "../abi/enums";
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { Buffer, downstreamData, upstreamData } from "./buffer";

/**
 * One TCP connection (network filter). Subclass it and override what the filter needs; data
 * callbacks default to Continue. Created by RootContext.createTcpContext.
 * Envoy order at the end: onDownstreamConnectionClose, then onDone, onLog, onDelete.
 */
export class TcpContext extends Context {
  // @ts-ignore: decorator
  @inline constructor(
    id: u32,
    /** The root context that created this connection (its plugin's configuration and state). */
    public readonly root: RootContext,
  ) {
    super(id, ContextKind.Tcp);
  }

  /** A client connected; StopIteration holds the connection until continueDownstream(). */
  onNewConnection(): FilterStatus {
    return FilterStatus.Continue;
  }

  /** Bytes from the client; with StopIteration the next call's size includes them again. */
  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    return FilterStatus.Continue;
  }

  /** Bytes from the upstream server. */
  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    return FilterStatus.Continue;
  }

  /** The client side closed; `peer` says whether the proxy (Local) or the client (Remote)
   * closed it. */
  onDownstreamConnectionClose(peer: PeerType): void {}

  /** Envoy always reports PeerType.Unknown here. */
  onUpstreamConnectionClose(peer: PeerType): void {}

  /** The bytes from the client; only in onDownstreamData. */
  get downstreamData(): Buffer { return downstreamData; }
  /** The bytes from the upstream server; only in onUpstreamData. */
  get upstreamData(): Buffer { return upstreamData; }
}
