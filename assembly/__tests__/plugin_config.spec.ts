// The typed configuration reader inside the module: as-pect builds run the SDK's transform too
// (as-pect.asconfig.json), so a @pluginConfig class here gets its reader.
import { parseConfigText, configError } from "../api/plugin_config";

/** A spec's configuration. */
// @ts-ignore: decorator
@pluginConfig
class SpecConfig {
  name!: string;
  count: u16 = 1;
  tags: Array<string> = [];
}

describe("parseConfig in a spec", () => {
  it("reads a declared configuration and says what is wrong with a bad one", () => {
    const config = parseConfigText<SpecConfig>('{"name": "a", "tags": ["x", "y"]}')!;
    expect(config.name).toBe("a");
    expect(config.count).toBe(1);
    expect(config.tags.join(",")).toBe("x,y");
    expect(configError()).toBe("");
    expect(parseConfigText<SpecConfig>('{"name": "a", "count": 70000}') === null).toBe(true);
    expect(configError()).toBe("count: expected an integer from 0 to 65535, got 70000 (1:24)");
    expect(parseConfigText<SpecConfig>('{"tags": []}') === null).toBe(true);
    expect(configError()).toBe("name: required field is missing (1:1)");
  });
});
