import type { HeaderMutation } from "../config/dev-proxy-config";
import type { HeaderList } from "../header-list";

/**
 * Applies a route's header mutations to `headers` (a new list; `headers` is left alone), as
 * Envoy's `HeaderParser::evaluateHeaders` does per level (envoy
 * source/common/router/header_parser.cc): the list holds each level's removals before its
 * additions, levels in Envoy's order. `APPEND_IF_EXISTS_OR_ADD` adds an entry;
 * `ADD_IF_ABSENT` only when the name is absent; `OVERWRITE_IF_EXISTS_OR_ADD` removes every entry
 * of the name and appends one (Envoy's `HeaderMapImpl::setCopy`); `OVERWRITE_IF_EXISTS` does so
 * only when the name is there.
 */
export function applyHeaderMutations(headers: HeaderList, mutations: readonly HeaderMutation[] | undefined): HeaderList {
  if (mutations === undefined || mutations.length === 0) return headers;
  let out: HeaderList = headers.slice();
  for (const mutation of mutations) {
    if ("remove" in mutation) {
      out = out.filter(([name]) => name !== mutation.remove);
      continue;
    }
    const exists = out.some(([name]) => name === mutation.name);
    switch (mutation.action) {
      case "APPEND_IF_EXISTS_OR_ADD":
        out.push([mutation.name, mutation.value]);
        break;
      case "ADD_IF_ABSENT":
        if (!exists) out.push([mutation.name, mutation.value]);
        break;
      case "OVERWRITE_IF_EXISTS":
      case "OVERWRITE_IF_EXISTS_OR_ADD":
        if (!exists && mutation.action === "OVERWRITE_IF_EXISTS") break;
        // Envoy's `setCopy` removes every entry of the name and appends one.
        out = out.filter(([name]) => name !== mutation.name);
        out.push([mutation.name, mutation.value]);
        break;
    }
  }
  return out;
}
