// A plugin configuration declaration with every kind of field (AssemblyScript source for a test
// module), and `show(config)`, which prints what was read in one line:
// `keys=a,b limit=10 big=0 small=-1 enabled=false name=null rules=[h/prefix/2.0] labels={a=1} first=f ratio=0.5`.
// tests/sdk/plugin-config-transform.test.ts reads it; tests/sdk/plugin-config-one-pass.test.ts
// breaks texts for it.
export const EVERY_FIELD_DECLARATION = `
/** One rule. */
// @ts-ignore: decorator
@pluginConfig
class Rule {
  /** The header to match. */
  header!: string;
  /** @enum exact|prefix */
  mode: string = "exact";
  weight: f64 = 1.5;
}

/**
 * Test configuration.
 *
 * Everything a test needs.
 */
// @ts-ignore: decorator
@pluginConfig
class Config {
  /** Keys every body needs. */
  requiredKeys: Array<string> = [];
  limit: u32 = 10;
  big: i64 = 0;
  small: i8 = -1;
  enabled: bool = false;
  name: string | null = null;
  rules: Array<Rule> = [];
  labels: Map<string, i32> = new Map<string, i32>();
  first: Rule | null = null;
  ratio: f32 = 0.5;
}

function show(config: Config): string {
  let rules = "";
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    rules += (i > 0 ? "," : "") + rule.header + "/" + rule.mode + "/" + rule.weight.toString();
  }
  const keys = config.labels.keys();
  let labels = "";
  for (let i = 0; i < keys.length; i++) labels += (i > 0 ? "," : "") + keys[i] + "=" + config.labels.get(keys[i]).toString();
  return "keys=" + config.requiredKeys.join(",") + " limit=" + config.limit.toString() + " big=" + config.big.toString() +
    " small=" + config.small.toString() + " enabled=" + (config.enabled ? "true" : "false") +
    " name=" + (config.name === null ? "null" : config.name!) + " rules=[" + rules + "] labels={" + labels + "}" +
    " first=" + (config.first === null ? "null" : config.first!.header) + " ratio=" + config.ratio.toString();
}

`;
