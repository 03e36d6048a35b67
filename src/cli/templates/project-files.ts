import { httpFilterSource, httpFilterSpec, httpFilterTest } from "./http-filter";
import { tcpFilterSource, tcpFilterSpec, tcpFilterTest } from "./tcp-filter";

/** The kinds of filter `init` can start from. */
export type FilterKind = "http" | "tcp";

export interface ProjectSpec {
  /** npm package name, also the module's file name. */
  name: string;
  kind: FilterKind;
  /** The dependency spec of proxy-wasm-as: a version range (`^0.1.0`) or a `file:` spec. */
  sdkDependency: string;
}

/** Every file of a new filter project, path -> content, paths relative to the project root. */
export function projectFiles(spec: ProjectSpec): Record<string, string> {
  const wasm = `build/${spec.name}.wasm`;
  return {
    "package.json": json({
      name: spec.name,
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: {
        build: "proxy-wasm-as build",
        "build:debug": "proxy-wasm-as build --debug",
        test: "proxy-wasm-as build && proxy-wasm-as test",
        start: spec.kind === "http" ? `proxy-wasm-as build && proxy-wasm-as run --wasm ${wasm} --name ${spec.name}` : "proxy-wasm-as build",
      },
      devDependencies: {
        "@as-pect/cli": "8.1.0",
        assemblyscript: "0.28.20",
        "proxy-wasm-as": spec.sdkDependency,
        tsx: "^4.19.0",
      },
      // as-pect 8.1.0 asks for AssemblyScript 0.27; this keeps one compiler (0.28.20).
      overrides: { assemblyscript: "$assemblyscript" },
    }),
    "asconfig.json": json({
      extends: "./node_modules/proxy-wasm-as/asconfig.json",
      entries: ["assembly/index.ts"],
      targets: {
        release: { outFile: wasm },
        debug: { outFile: `build/${spec.name}.debug.wasm` },
      },
    }),
    "assembly/index.ts": spec.kind === "http" ? httpFilterSource(spec.name) : tcpFilterSource(spec.name),
    "assembly/greeting.ts": GREETING_SOURCE,
    "assembly/tsconfig.json": json({ extends: "assemblyscript/std/assembly.json", include: ["./**/*.ts"] }),
    [`assembly/__tests__/${spec.name}.spec.ts`]: spec.kind === "http" ? httpFilterSpec(spec.name) : tcpFilterSpec(spec.name),
    "assembly/__tests__/greeting.spec.ts": GREETING_SPEC,
    "as-pect.config.js": asPectConfig(wasm),
    // Its own compiler settings: the SDK's abort alias must not reach the spec builds
    // (as-pect supplies env.abort and reports failures through it). spec-lines lets a failure
    // report name the spec line it stopped at.
    "as-pect.asconfig.json": json({
      targets: { noCoverage: { transform: ["@as-pect/transform", "proxy-wasm-as/transform/spec-lines"] } },
      options: {
        exportMemory: true,
        outFile: "output.wasm",
        bindings: "raw",
        exportStart: "_start",
        exportRuntime: true,
        use: ["RTRACE=1"],
        debug: true,
        exportTable: true,
      },
      entries: ["./node_modules/@as-pect/assembly/assembly/index.ts"],
    }),
    "assembly/__tests__/as-pect.d.ts": '/// <reference types="@as-pect/assembly/types/as-pect" />\n',
    [`test/${spec.name}.test.ts`]: spec.kind === "http" ? httpFilterTest(spec.name) : tcpFilterTest(spec.name),
    ".gitignore": "node_modules/\nbuild/\ncoverage/\n",
    "README.md": readme(spec),
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const GREETING_SOURCE = `// Plain logic without hostcalls: what as-pect specs test best.

/** The value of the header the filter adds, for the plugin named \`name\`. */
export function greeting(name: string): string {
  return name.length == 0 ? "hello" : "hello from " + name;
}
`;

const GREETING_SPEC = `import { greeting } from "../greeting";

describe("greeting", () => {
  it("names the plugin", () => {
    expect(greeting("demo")).toBe("hello from demo");
  });

  it("falls back without a name", () => {
    expect(greeting("")).toBe("hello");
  });
});
`;

function asPectConfig(wasm: string): string {
  return `// as-pect runs the specs in assembly/__tests__. Specs that import "proxy-wasm-as/assembly/testing"
// drive the built filter (${wasm}; \`npm test\` builds it first) through proxy-wasm-as's host;
// specs of plain logic need no host and run as they are.
import { withProxyWasmHost } from "proxy-wasm-as/testing/aspect";

export default withProxyWasmHost({
  filter: "${wasm}",
  entries: ["assembly/__tests__/**/*.spec.ts"],
});
`;
}

function readme(spec: ProjectSpec): string {
  const http = spec.kind === "http";
  return `# ${spec.name}

A Proxy-Wasm ${http ? "HTTP" : "network (TCP)"} filter written in AssemblyScript with
[proxy-wasm-as](https://www.npmjs.com/package/proxy-wasm-as).

\`\`\`sh
npm install
npm test          # builds build/${spec.name}.wasm, runs the as-pect specs and the Node tests
npx proxy-wasm-as test --coverage   # the same, with the lines and branches of assembly/ that ran
${http ? "npm start         # the dev proxy on 127.0.0.1:10000 with this filter in front of an echo upstream\n" : ""}\`\`\`
${
  http
    ? `
Then \`curl -i localhost:10000/\` shows the header the filter adds:

\`\`\`
x-greeting: hello from ${spec.name}
\`\`\`

and \`curl localhost:10000/healthz\` gets the filter's own reply, \`ok\`.
`
    : ""
}
- \`assembly/index.ts\`: the filter. \`assembly/greeting.ts\`: plain logic.
- \`assembly/__tests__/${spec.name}.spec.ts\`: as-pect specs that play ${http ? "requests" : "a connection"} through the built
  filter in proxy-wasm-as's host (the one the dev proxy uses), with the AssemblyScript test API
  \`proxy-wasm-as/assembly/testing\`; \`as-pect.config.js\` links them to the host.
  \`assembly/__tests__/greeting.spec.ts\` specifies the plain logic.
- \`test/${spec.name}.test.ts\`: the same filter from Node, with the test kit \`proxy-wasm-as/testing\`.
- Deploying: the module is \`build/${spec.name}.wasm\`; in Envoy it is an
  \`envoy.filters.${http ? "http" : "network"}.wasm\` filter whose \`vm_config.code.local.filename\` points at it.
`;
}
