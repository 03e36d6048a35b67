import { createServer } from "node:net";

/** A port the dev proxy is about to listen on, and what it is for. */
export interface PortClaim {
  role: "listener" | "admin";
  host: string;
  port: number;
}

/**
 * The first claim whose port cannot be listened on now (another process holds it, or the address
 * is not this machine's), with the system's reason, or null when every one is free. Port 0 (any
 * free port) is never busy. Each port is listened on and closed again, so the answer holds for
 * the moment of the call only; the real listen still reports a port taken in between.
 */
export async function firstBusyPort(claims: readonly PortClaim[]): Promise<(PortClaim & { code: string }) | null> {
  for (const claim of claims) {
    if (claim.port === 0) continue;
    const code = await tryListen(claim.host, claim.port);
    if (code !== null) return { ...claim, code };
  }
  return null;
}

/** What to tell the user about a port that is taken: which one, and the flag that moves it. */
export function busyPortMessage(claim: PortClaim, code = "EADDRINUSE"): string {
  const where = `${claim.host.includes(":") ? `[${claim.host}]` : claim.host}:${claim.port}`;
  const cause = code === "EADDRINUSE" ? "is in use by another process" : code === "EACCES" ? "needs privileges to listen on" : `cannot be listened on (${code})`;
  const fix = claim.role === "admin" ? "pass --admin <host:port> for another one, or --admin off" : "pass --listen <host:port> for another one";
  return `the ${claim.role} port ${where} ${cause}; ${fix}`;
}

/** Which claim a failed listen (Node's EADDRINUSE/EACCES error, with address and port) was for. */
export function claimOfListenError(error: unknown, claims: readonly PortClaim[]): (PortClaim & { code: string }) | null {
  const { code, port, address } = (error ?? {}) as { code?: string; port?: number; address?: string };
  if (code === undefined || port === undefined) return null;
  const claim = claims.find((candidate) => candidate.port === port && (address === undefined || candidate.host === address));
  return claim === undefined ? null : { ...claim, code };
}

function tryListen(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
