// Requests per second through the dev proxy, filled in once the dev proxy exists.
export interface ProxyThroughput { filterCostPercent: number; [key: string]: unknown }

export async function measureProxyThroughput(_root: string): Promise<ProxyThroughput | null> {
  return null;
}
