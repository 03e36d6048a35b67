// The ABI's numbers are written twice, once per side: assembly/abi/enums.ts for the SDK
// (AssemblyScript) and src/host/abi/enums.ts for the host (TypeScript). A filter and the host
// only interoperate if both sides agree on every name and value, so compare them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as hostEnums from "../../src/host/abi/enums";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** name -> (member -> value) of every `export enum` in an AssemblyScript source, by evaluation order. */
function sdkEnums(path: string): Map<string, Map<string, number>> {
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
  const enums = new Map<string, Map<string, number>>();
  for (const statement of source.statements) {
    if (!ts.isEnumDeclaration(statement)) continue;
    const members = new Map<string, number>();
    let next = 0;
    for (const member of statement.members) {
      const name = member.name.getText(source);
      let value = next;
      if (member.initializer !== undefined) {
        const text = member.initializer.getText(source);
        assert.match(text, /^-?\d+$/, `${statement.name.text}.${name} must be a number literal, is ${text}`);
        value = Number(text);
      }
      members.set(name, value);
      next = value + 1;
    }
    enums.set(statement.name.text, members);
  }
  return enums;
}

const sdk = sdkEnums(join(root, "assembly", "abi", "enums.ts"));

test("the SDK declares the ABI enums the host knows", () => {
  assert.deepEqual([...sdk.keys()].sort(), [
    "BufferType", "FilterDataStatus", "FilterHeadersStatus", "FilterStatus", "FilterTrailersStatus",
    "GrpcStatus", "LogLevel", "MapType", "MetricType", "PeerType", "StreamType", "WasmResult",
  ]);
});

for (const [name, members] of sdk) {
  test(`${name}: every SDK member has the host's value, and the host has no member the SDK lacks`, () => {
    const host = (hostEnums as unknown as Record<string, Record<string, string | number>>)[name];
    assert.ok(host !== undefined, `src/host/abi/enums.ts has no ${name}`);
    const hostMembers = new Map(Object.entries(host).filter(([, value]) => typeof value === "number") as [string, number][]);
    assert.deepEqual(new Map([...members].sort()), new Map([...hostMembers].sort()));
  });
}
