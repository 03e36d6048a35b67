import { stringify } from "yaml";

/** Serialises a config object as YAML: no line folding (JSON strings stay on one line), keys in insertion order. */
export function toYaml(document: unknown): string {
  return stringify(document, { lineWidth: 0, minContentWidth: 0 });
}
