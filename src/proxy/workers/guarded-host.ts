import type { Callout, CalloutUpstream, GrpcCallout, HttpCallout } from "../../host/callouts";
import { wallClockMs, type Scheduler, type TimerHandle } from "../../host/scheduler";

type Guard = <T>(work: () => T) => T;

/**
 * A Scheduler whose timers and posted tasks run under the worker's callback guard, so a filter
 * looping in `proxy_on_tick` or `proxy_on_queue_ready` is caught like one looping in a stream
 * callback.
 */
export class GuardedScheduler implements Scheduler {
  constructor(
    private readonly inner: Scheduler,
    private readonly guard: Guard,
  ) {}

  nowNanos(): bigint {
    return this.inner.nowNanos();
  }

  nowMillis(): number {
    return wallClockMs(this.inner);
  }

  monotonicNanos(): bigint {
    return this.inner.monotonicNanos();
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    return this.inner.setTimer(delayMs, () => this.guard(fire));
  }

  cancelTimer(handle: TimerHandle): void {
    this.inner.cancelTimer(handle);
  }

  post(task: () => void): void {
    this.inner.post(() => this.guard(task));
  }
}

/**
 * A CalloutUpstream that hands `inner` callouts whose answers (which call into the VM at once
 * when it is idle) run under the guard. Everything else is passed through unchanged.
 */
export function guardedUpstream(inner: CalloutUpstream, guard: Guard): CalloutUpstream {
  const wrapped = new WeakMap<Callout, Callout>();
  const outer = (callout: Callout): Callout => {
    let result = wrapped.get(callout);
    if (result === undefined) {
      result = callout.kind === "http" ? guardHttp(callout, guard) : guardGrpc(callout, guard);
      wrapped.set(callout, result);
    }
    return result;
  };
  return {
    dispatch: (callout) => inner.dispatch(outer(callout)),
    cancelled: (callout) => inner.cancelled?.(outer(callout)),
    sent: (callout, message, endStream) => inner.sent?.(outer(callout) as GrpcCallout, message, endStream),
    closedLocally: (callout) => inner.closedLocally?.(outer(callout) as GrpcCallout),
  };
}

function guardHttp(callout: HttpCallout, guard: Guard): HttpCallout {
  return {
    kind: "http",
    token: callout.token,
    cluster: callout.cluster,
    headers: callout.headers,
    body: callout.body,
    trailers: callout.trailers,
    timeoutMs: callout.timeoutMs,
    respond: (response) => guard(() => callout.respond(response)),
    fail: () => guard(() => callout.fail()),
    get settled() {
      return callout.settled;
    },
  };
}

function guardGrpc(callout: GrpcCallout, guard: Guard): GrpcCallout {
  return {
    kind: callout.kind,
    token: callout.token,
    cluster: callout.cluster,
    serviceName: callout.serviceName,
    methodName: callout.methodName,
    initialMetadata: callout.initialMetadata,
    messages: callout.messages,
    timeoutMs: callout.timeoutMs,
    get localClosed() {
      return callout.localClosed;
    },
    get cancelled() {
      return callout.cancelled;
    },
    get settled() {
      return callout.settled;
    },
    receive: (message) => guard(() => callout.receive(message)),
    receiveInitialMetadata: (metadata) => guard(() => callout.receiveInitialMetadata(metadata)),
    receiveTrailingMetadata: (metadata) => guard(() => callout.receiveTrailingMetadata(metadata)),
    close: (status, message) => guard(() => callout.close(status, message)),
  };
}
