// Which context made which callout. Envoy delivers every HTTP/gRPC answer to the root context
// id; the SDK looks the caller up here, makes it the effective context and calls it. Answers for
// callers that are gone are dropped. A singly linked list: outstanding callouts are few, and
// it needs no generic Array/Map code in every filter.
//
// The callout exports call the routing (callout_routing.ts) directly: the SDK's export
// transform removes those exports from a filter that makes no callout, and the routing goes
// with them. Deleting a context reaches the list only through the function slot below, which
// rememberCallout fills: a filter that never makes a callout links none of it.

/** Which callback an answer arrived on (see routeCallout). */
export const enum CalloutEvent {
  HttpResponse = 0,
  GrpcInitialMetadata = 1,
  GrpcMessage = 2,
  GrpcTrailingMetadata = 3,
  GrpcClose = 4,
}

function keepNothing(contextId: u32): void {}

/** @internal Called when a context is deleted. */
export let forgetCalloutsOfContext: (contextId: u32) => void = keepNothing;

class PendingCallout {
  constructor(
    public token: u32,
    public ownerId: u32,
    public isStream: bool,
    public next: PendingCallout | null,
  ) {}
}

let pending: PendingCallout | null = null;
// Entries of answered callouts, reused by the next calls: a filter that calls out on every
// request then allocates no entry per request. As many as were ever outstanding at once.
let spare: PendingCallout | null = null;

/** Records that context `ownerId` waits for `token`. A gRPC stream stays registered until it
 * closes; anything else is forgotten at its first answer. */
export function rememberCallout(token: u32, ownerId: u32, isStream: bool): void {
  forgetCalloutsOfContext = forgetCalloutsOf;
  const entry = spare;
  if (entry === null) {
    pending = new PendingCallout(token, ownerId, isStream, pending);
    return;
  }
  spare = entry.next;
  entry.token = token;
  entry.ownerId = ownerId;
  entry.isStream = isStream;
  entry.next = pending;
  pending = entry;
}

// Unlinks every entry of `token` (when ownerId == 0) or of `ownerId`.
function unlink(token: u32, ownerId: u32): void {
  let previous: PendingCallout | null = null;
  let entry = pending;
  while (entry !== null) {
    const next = entry.next;
    if (ownerId == 0 ? entry.token == token : entry.ownerId == ownerId) {
      if (previous === null) pending = next;
      else previous.next = next;
      entry.next = spare;
      spare = entry;
    } else {
      previous = entry;
    }
    entry = next;
  }
}

/**
 * The context id waiting for `token`, or 0 if none. The entry is removed when `final` is true,
 * or when the callout is not a stream (a unary answer is its last event).
 */
export function calloutOwner(token: u32, final: bool): u32 {
  for (let entry: PendingCallout | null = pending; entry !== null; entry = changetype<PendingCallout>(entry).next) {
    if (entry.token == token) {
      const ownerId = entry.ownerId; // unlinking makes the entry a spare
      if (final || !entry.isStream) unlink(token, 0);
      return ownerId;
    }
  }
  return 0;
}

/** Forgets `token` (after the filter cancelled or closed it). */
export function forgetCallout(token: u32): void {
  unlink(token, 0);
}

/** Forgets every callout of a deleted context, so its late answers are dropped. */
export function forgetCalloutsOf(ownerId: u32): void {
  if (pending !== null) unlink(0, ownerId);
}

/** Number of outstanding callouts (for tests and diagnostics). */
export function pendingCalloutCount(): i32 {
  let count = 0;
  for (let entry: PendingCallout | null = pending; entry !== null; entry = changetype<PendingCallout>(entry).next) count++;
  return count;
}
