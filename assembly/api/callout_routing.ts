// Delivers callout answers (see callouts.ts) to the context that made the call.
import { GrpcStatus } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { beginCallback } from "./log";
import { CalloutEvent, calloutOwner } from "./callouts";
import { findContext } from "./registry";
import { HttpCallResponse } from "./http_call_response";

/** @internal The routing behind the callout exports; installed by rememberCallout. */
export function routeCallout(event: CalloutEvent, rootId: u32, token: u32, a: u32, b: u32, c: u32): void {
  beginCallback();
  // A unary answer, an HTTP answer and a close are the last event of their callout.
  const ownerId = calloutOwner(token, event == CalloutEvent.HttpResponse || event == CalloutEvent.GrpcClose);
  if (ownerId == 0) return;
  const owner = findContext(ownerId);
  if (owner === null) return;
  // The host runs the callback on the root; make the caller effective so its stream
  // operations (headers, continue, local response) act on it.
  if (ownerId != rootId) host.setEffectiveContext(ownerId);
  if (event == CalloutEvent.HttpResponse) owner.onHttpCallResponse(token, new HttpCallResponse(a, b, c));
  else if (event == CalloutEvent.GrpcInitialMetadata) owner.onGrpcReceiveInitialMetadata(token, a);
  else if (event == CalloutEvent.GrpcMessage) owner.onGrpcReceive(token, a);
  else if (event == CalloutEvent.GrpcTrailingMetadata) owner.onGrpcReceiveTrailingMetadata(token, a);
  else owner.onGrpcClose(token, <GrpcStatus>a);
}
