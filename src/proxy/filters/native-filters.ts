import type { DevProxyConfig } from "../config/dev-proxy-config";
import type { ProxyStats } from "../proxy-stats";
import type { HttpFilterFactory } from "./http-filter";
import { SetMetadataFilter } from "./set-metadata-filter";

/**
 * Places the proxy's own (non-Wasm) HTTP filters of `config.metadataFilters` among the Wasm
 * filters, in the bootstrap's order. Returns a function from the Wasm filters in effect (they may
 * change with hot reload) to the whole chain; the chain is rebuilt only when that list changes.
 * Without native filters it is the identity.
 *
 * With worker threads the Wasm filters are one factory (the pool), so native filters can only
 * run before all of them or after all of them.
 *
 * @throws Error (at the first call) when a native filter sits between Wasm filters that run as one pool.
 */
export function chainWithNativeFilters(config: DevProxyConfig, stats: ProxyStats): (wasm: readonly HttpFilterFactory[]) => readonly HttpFilterFactory[] {
  const placed = config.metadataFilters ?? [];
  if (placed.length === 0) return (wasm) => wasm;
  const native = placed.map((filter) => ({ position: filter.position, factory: new SetMetadataFilter(filter.entries, stats) }));
  let lastWasm: readonly HttpFilterFactory[] | undefined;
  let lastChain: readonly HttpFilterFactory[] = [];
  return (wasm) => {
    if (wasm === lastWasm) return lastChain;
    const oneFactoryForAll = wasm.length !== config.filters.length;
    const chain: HttpFilterFactory[] = [];
    const count = config.filters.length;
    for (let index = 0; index <= count; index++) {
      for (const filter of native) {
        if (filter.position !== index) continue;
        if (oneFactoryForAll && index !== 0 && index !== count) {
          throw new Error(`${filter.factory.name} between two Wasm filters needs --concurrency 1 (with worker threads the Wasm filters run as one unit)`);
        }
        chain.push(filter.factory);
      }
      if (oneFactoryForAll ? index === 0 : index < count) chain.push(...(oneFactoryForAll ? wasm : [wasm[index]]));
    }
    lastWasm = wasm;
    lastChain = chain;
    return chain;
  };
}
