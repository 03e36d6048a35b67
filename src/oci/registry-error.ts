/** One entry of a registry's `{"errors": [...]}` body (distribution spec error codes). */
export interface RegistryErrorDetail {
  code: string;
  message: string;
  detail?: unknown;
}

/** A registry refused a request; the message names the step, the HTTP status and the registry's own words. */
export class RegistryError extends Error {
  override readonly name = "RegistryError";

  constructor(
    readonly step: string,
    readonly status: number,
    readonly errors: readonly RegistryErrorDetail[],
    bodyText = "",
  ) {
    super(`${step}: HTTP ${status}${describeErrors(status, errors, bodyText)}`);
  }
}

function describeErrors(status: number, errors: readonly RegistryErrorDetail[], bodyText: string): string {
  const hint = status === 415 ? " (the registry refused the media type)" : "";
  if (errors.length > 0) return `${hint}: ${errors.map((e) => `${e.code}: ${e.message}`).join("; ")}`;
  const text = bodyText.trim();
  return text === "" ? hint : `${hint}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** Reads the `errors` array of a registry error body; empty when the body is not that JSON. */
export function parseRegistryErrors(bodyText: string): RegistryErrorDetail[] {
  try {
    const parsed = JSON.parse(bodyText) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
      .map((e) => ({ code: String(e.code ?? "UNKNOWN"), message: String(e.message ?? ""), detail: e.detail }));
  } catch {
    return [];
  }
}
