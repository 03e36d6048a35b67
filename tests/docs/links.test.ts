// The guides must not rot: every relative link in docs/ points at a file (and heading) that
// exists, and every AssemblyScript block of getting-started.md and README.md compiles against the SDK as a
// user's project would compile it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const docsDir = join(repoRoot, "docs");

/** docs/*.md plus README-like files in docs/ subfolders. */
function docFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true })) {
    const path = join(dir, String(entry));
    if (!statSync(path).isFile() || !path.endsWith(".md")) continue;
    const nested = dirname(path) !== dir;
    if (!nested || /^readme/i.test(String(entry).split(/[\\/]/).pop() ?? "")) files.push(path);
  }
  return files.sort();
}

function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(match[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-"));
  }
  for (const match of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(match[1]);
  return anchors;
}

/** Broken relative links in `files`, as `file: target (why)` lines. */
function brokenLinks(files: string[], root: string): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const match of withoutCode(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [pathPart, anchor] = target.split("#", 2);
      const resolved = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
      const where = `${relative(root, file)}: ${target}`;
      if (!existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
      } else if (anchor !== undefined && resolved.endsWith(".md") && !headingAnchors(readFileSync(resolved, "utf8")).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
  }
  return broken;
}

test("every relative link in docs/ points to an existing file and heading", () => {
  const files = docFiles(docsDir);
  assert.ok(files.some((f) => f.endsWith("getting-started.md")), "docs/getting-started.md exists");
  const broken = brokenLinks(files, repoRoot);
  assert.ok(broken.length === 0, `broken links:\n  ${broken.join("\n  ")}`);
});

test("the link checker reports a missing file and a missing heading, and ignores code", () => {
  const dir = mkdtempSync(join(tmpdir(), "doc-links-"));
  try {
    writeFileSync(join(dir, "a.md"), "# Title\n\n## Some heading\n\nSee [b](b.md), [gone](gone.md), [h](#some-heading), [x](#nope).\n\n```\n[in code](missing.md)\n```\n`[inline](missing2.md)` and [web](https://example.com/x).\n");
    writeFileSync(join(dir, "b.md"), "# B\n");
    assert.deepEqual(brokenLinks([join(dir, "a.md")], dir), ["a.md: gone.md (no such file)", "a.md: #nope (no such heading)"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The fenced blocks of `markdown` written in AssemblyScript (they import the SDK's assembly/). */
function assemblyScriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]).filter((code) => code.includes('"proxy-wasm-as/assembly'));
}

for (const [name, path] of [["docs/getting-started.md", join(docsDir, "getting-started.md")], ["README.md", join(repoRoot, "README.md")]]) {
  test(`every AssemblyScript block in ${name} compiles with the SDK's base asconfig`, { timeout: 120_000 }, () => {
    assertBlocksCompile(name, readFileSync(path, "utf8"));
  });
}

function assertBlocksCompile(name: string, markdown: string): void {
  const blocks = assemblyScriptBlocks(markdown);
  assert.ok(blocks.length > 0, `${name} has at least one AssemblyScript block`);
  // The repository itself plays the installed package: node_modules/proxy-wasm-as -> the repo.
  const link = spawnSync(process.execPath, [join(repoRoot, "scripts", "link-self.mjs")], { encoding: "utf8" });
  assert.equal(link.status, 0, link.stderr);
  const asc = join(repoRoot, "node_modules", "assemblyscript", "bin", "asc.js");
  const project = mkdtempSync(join(tmpdir(), "getting-started-"));
  try {
    symlinkSync(join(repoRoot, "node_modules"), join(project, "node_modules"), "dir");
    mkdirSync(join(project, "assembly"));
    const entries = blocks.map((code, index) => {
      const entry = `assembly/block${index}.ts`;
      writeFileSync(join(project, entry), code);
      return entry;
    });
    const failures: string[] = [];
    entries.forEach((entry, index) => {
      const config = {
        extends: "./node_modules/proxy-wasm-as/asconfig.json",
        entries: [entry],
        targets: { release: { outFile: `build/block${index}.wasm` } },
      };
      writeFileSync(join(project, "asconfig.json"), JSON.stringify(config));
      const result = spawnSync(process.execPath, [asc, "--config", "asconfig.json", "--target", "release"], { cwd: project, encoding: "utf8" });
      if (result.status !== 0 || !existsSync(join(project, "build", `block${index}.wasm`))) {
        failures.push(`block ${index + 1}:\n${result.stdout}${result.stderr}`);
      }
    });
    assert.ok(failures.length === 0, `AssemblyScript blocks of ${name} that do not compile:\n${failures.join("\n")}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
