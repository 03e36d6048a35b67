import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./cli-io";

/**
 * `parseArgs` for a command, with our wording for an unknown option: "unknown option '--foo'" and,
 * when a known option is a few edits away, "Did you mean '--bar'?" (Node's own text suggests
 * quoting the option as a positional, which is never what the user meant).
 *
 * @throws UsageError for an unknown option; Node's other ERR_PARSE_ARGS errors pass through (main
 *   prints them with the usage, exit code 2).
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: string } | null)?.code;
    if (code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw error;
    const given = /option '([^']+)'/i.exec((error as Error).message)?.[1] ?? "";
    const known = optionSpellings(config.options ?? {});
    const suggestion = closest(given, known);
    throw new UsageError(`unknown option '${given}'.${suggestion === undefined ? "" : ` Did you mean '${suggestion}'?`}`);
  }
}

/** `--name` for every option and `-x` for every short alias. */
function optionSpellings(options: NonNullable<ParseArgsConfig["options"]>): string[] {
  const spellings: string[] = [];
  for (const [name, option] of Object.entries(options)) {
    spellings.push(`--${name}`);
    if (option.short !== undefined) spellings.push(`-${option.short}`);
  }
  return spellings;
}

/**
 * The candidate nearest to `word` by edit distance, when it is near enough to be a typo: at most a
 * third of the longer word's length (and at least 1, at most 3 edits). Ties go to the first listed.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const allowed = Math.min(3, Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit (Damerau). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
