// Generates docs/reference.md from the SDK's public surface, so the reference cannot drift from
// the code: it starts at assembly/index.ts, follows its re-exports, and prints every exported
// class (public members), function, enum (values), constant, type and namespace with its doc
// comment and signature. AssemblyScript parses as TypeScript, so the TypeScript compiler API reads
// it; nothing is type-checked, only the syntax trees are used.
//
// Usage: node scripts/gen-reference.mjs [--check] [--undocumented] [--root DIR] [--out FILE]
//   (no flag)       write the reference to FILE (default docs/reference.md under DIR)
//   --check         exit 1, naming what differs, if FILE is not what the code generates now
//   --undocumented  print the public symbols without a doc comment as JSON; exit 1 if any
//   --root DIR      the repository to read (default: this repository)
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve, relative, basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = "assembly/index.ts";
const OUTPUT = "docs/reference.md";

// Section titles for the SDK's files; a file not listed gets a title from its name.
const TITLES = {
  "assembly/abi/enums.ts": "Enumerations",
  "assembly/runtime/hostcalls.ts": "Host call status",
  "assembly/runtime/pairs.ts": "Header pairs",
  "assembly/api/log.ts": "Logging",
  "assembly/api/context.ts": "Context (base class)",
  "assembly/api/root_context.ts": "Root context",
  "assembly/api/http_context.ts": "HTTP context",
  "assembly/api/tcp_context.ts": "TCP context",
  "assembly/api/registry.ts": "Registration",
  "assembly/api/header_map.ts": "Header maps",
  "assembly/api/buffer.ts": "Buffers and bodies",
  "assembly/api/http_call_response.ts": "HTTP callout answers",
  "assembly/api/properties.ts": "Properties",
  "assembly/api/json.ts": "JSON reader",
  "assembly/api/plugin_config.ts": "Typed plugin configuration",
  "assembly/api/stream.ts": "Stream control and local responses",
  "assembly/api/http_call.ts": "HTTP callouts",
  "assembly/api/grpc.ts": "gRPC callouts",
  "assembly/api/shared_data.ts": "Shared data and queues",
  "assembly/api/metrics.ts": "Metrics",
  "assembly/api/host_misc.ts": "Time, effective context, foreign functions",
  "assembly/api/callouts.ts": "Callout bookkeeping",
};

// ---------------------------------------------------------------------------------------------
// Reading the surface

/**
 * Reads the public surface of the SDK in `root` (a repository with assembly/index.ts).
 * Returns `{ modules: [{ file, title, intro, symbols }] }` in the order index.ts first names
 * each file. Throws if index.ts re-exports a name its source does not export.
 */
export function collectSurface(root = repoRoot) {
  const reader = new SurfaceReader(root);
  return { modules: reader.readEntry(ENTRY) };
}

class SurfaceReader {
  constructor(root) {
    this.root = root;
    this.sources = new Map();
    this.modules = new Map();
  }

  source(file) {
    let sf = this.sources.get(file);
    if (sf === undefined) {
      const text = readFileSync(join(this.root, file), "utf8");
      sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
      this.sources.set(file, sf);
    }
    return sf;
  }

  // `./x` from `assembly/index.ts` -> `assembly/x.ts` (or `assembly/x/index.ts`); null for packages.
  resolveModule(fromFile, specifier) {
    if (!specifier.startsWith(".")) return null;
    const base = join(dirname(fromFile), specifier);
    for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
      if (candidate.endsWith(".ts") && existsSync(join(this.root, candidate))) return candidate.split("\\").join("/");
    }
    throw new Error(`${fromFile}: cannot resolve "${specifier}"`);
  }

  readEntry(entry) {
    const sf = this.source(entry);
    for (const statement of sf.statements) {
      if (ts.isExportDeclaration(statement)) {
        const target = statement.moduleSpecifier ? this.resolveModule(entry, statement.moduleSpecifier.text) : entry;
        if (target === null) continue;
        if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
          for (const element of statement.exportClause.elements) {
            const localName = (element.propertyName ?? element.name).text;
            const found = this.findExport(target, localName, new Set(), statement.moduleSpecifier === undefined);
            if (found === null) throw new Error(`${entry} exports "${localName}" from ${target}, which does not export it`);
            this.add(found.file, describe(found.node, found.file, this.source(found.file), element.name.text));
          }
        } else {
          for (const found of this.allExports(target, new Set())) {
            this.add(found.file, describe(found.node, found.file, this.source(found.file), found.name));
          }
        }
      } else if (hasExportModifier(statement)) {
        for (const name of declaredNames(statement)) this.add(entry, describe(statement, entry, sf, name));
      }
    }
    return [...this.modules.values()];
  }

  add(file, symbol) {
    let module = this.modules.get(file);
    if (module === undefined) {
      module = { file, title: TITLES[file] ?? titleFromFileName(file), intro: fileIntro(this.source(file)), symbols: [] };
      this.modules.set(file, module);
    }
    if (!module.symbols.some((s) => s.name === symbol.name)) module.symbols.push(symbol);
  }

  // The declaration exported as `name` by `file` (following its own re-exports), or null.
  // `local` also accepts a non-exported declaration (for `export { x }` without a source).
  findExport(file, name, seen, local = false) {
    if (seen.has(file)) return null;
    seen.add(file);
    const sf = this.source(file);
    for (const statement of sf.statements) {
      if ((local || hasExportModifier(statement)) && declaredNames(statement).includes(name)) return { file, node: statement, name };
    }
    for (const statement of sf.statements) {
      if (!ts.isExportDeclaration(statement)) continue;
      const target = statement.moduleSpecifier ? this.resolveModule(file, statement.moduleSpecifier.text) : file;
      if (target === null) continue;
      if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        const element = statement.exportClause.elements.find((e) => e.name.text === name);
        if (element) return this.findExport(target, (element.propertyName ?? element.name).text, new Set(), statement.moduleSpecifier === undefined);
      } else if (!statement.exportClause) {
        const found = this.findExport(target, name, seen);
        if (found) return found;
      }
    }
    return null;
  }

  allExports(file, seen) {
    if (seen.has(file)) return [];
    seen.add(file);
    const sf = this.source(file);
    const result = [];
    for (const statement of sf.statements) {
      if (hasExportModifier(statement)) {
        for (const name of declaredNames(statement)) result.push({ file, node: statement, name });
      } else if (ts.isExportDeclaration(statement)) {
        const target = statement.moduleSpecifier ? this.resolveModule(file, statement.moduleSpecifier.text) : file;
        if (target === null) continue;
        if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
          for (const element of statement.exportClause.elements) {
            const found = this.findExport(target, (element.propertyName ?? element.name).text, new Set(), statement.moduleSpecifier === undefined);
            if (found) result.push({ ...found, name: element.name.text });
          }
        } else {
          result.push(...this.allExports(target, seen));
        }
      }
    }
    return result;
  }
}

function hasExportModifier(node) {
  return (ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
}

function declaredNames(statement) {
  if (ts.isVariableStatement(statement)) return statement.declarationList.declarations.map((d) => d.name.getText());
  if (
    ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement) || ts.isEnumDeclaration(statement) ||
    ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isModuleDeclaration(statement)
  ) {
    return statement.name ? [statement.name.text] : [];
  }
  return [];
}

function titleFromFileName(file) {
  const words = basename(file, ".ts").split(/[_-]/).join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// The file's leading `//` comment block (its statement of purpose), as one paragraph.
function fileIntro(sf) {
  const text = sf.getFullText();
  const lines = [];
  for (const range of ts.getLeadingCommentRanges(text, 0) ?? []) {
    if (range.kind !== ts.SyntaxKind.SingleLineCommentTrivia) break;
    const between = lines.length === 0 ? "" : text.slice(previousEnd(lines), range.pos);
    if ((between.match(/\n/g) ?? []).length > 1) break;
    lines.push({ text: text.slice(range.pos + 2, range.end).trim(), end: range.end });
  }
  return lines.map((l) => l.text).join(" ").trim();
}

function previousEnd(lines) {
  return lines[lines.length - 1].end;
}

// ---------------------------------------------------------------------------------------------
// Describing declarations

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function printNode(node, sf) {
  return printer.printNode(ts.EmitHint.Unspecified, node, sf).replace(/\s+/g, " ").replace(/;$/, "").trim();
}

/** The text of the `/** *\/` comment right above `node` (no blank line between), or "". */
export function docComment(node, sf) {
  const text = sf.getFullText();
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  for (let i = ranges.length - 1; i >= 0; i--) {
    const range = ranges[i];
    const comment = text.slice(range.pos, range.end);
    const next = i + 1 < ranges.length ? ranges[i + 1].pos : node.getStart(sf, false);
    const gap = text.slice(range.end, next);
    if ((gap.match(/\n/g) ?? []).length > 1) return "";
    if (comment.startsWith("/**") && !comment.startsWith("/**/")) return cleanDoc(comment);
  }
  return "";
}

function cleanDoc(comment) {
  const body = comment.slice(3, -2);
  const lines = body.split("\n").map((line) => line.replace(/^\s*\* ?/, "").replace(/\s+$/, ""));
  // Paragraphs are kept; lines inside one are joined so the Markdown does not depend on wrapping.
  const paragraphs = [];
  let current = [];
  for (const line of lines) {
    if (line.trim() === "") {
      if (current.length) paragraphs.push(current.join(" "));
      current = [];
    } else {
      current.push(line.trim());
    }
  }
  if (current.length) paragraphs.push(current.join(" "));
  return paragraphs.join("\n\n").trim();
}

function isInternal(doc) {
  return /(^|\s)@internal\b/.test(doc);
}

function withoutModifiers(modifiers, drop) {
  const kept = (modifiers ?? []).filter((m) => !drop.includes(m.kind) && m.kind !== ts.SyntaxKind.Decorator);
  return kept.length ? kept : undefined;
}

const TOP_DROP = [ts.SyntaxKind.ExportKeyword, ts.SyntaxKind.DeclareKeyword, ts.SyntaxKind.DefaultKeyword];
const MEMBER_DROP = [ts.SyntaxKind.PublicKeyword, ts.SyntaxKind.OverrideKeyword, ts.SyntaxKind.DeclareKeyword];

function describe(node, file, sf, exportedName) {
  const f = ts.factory;
  const doc = docComment(node, sf);
  const base = { name: exportedName, file, doc };
  const localName = declaredNames(node)[0];
  const alias = localName !== exportedName ? ` (declared as \`${localName}\`)` : "";
  if (ts.isClassDeclaration(node)) {
    const head = f.updateClassDeclaration(node, withoutModifiers(node.modifiers, TOP_DROP), node.name, node.typeParameters, node.heritageClauses, []);
    return { ...base, kind: "class", alias, signature: printNode(head, sf).replace(/\s*\{\s*\}$/, ""), members: classMembers(node, sf) };
  }
  if (ts.isFunctionDeclaration(node)) {
    const head = f.updateFunctionDeclaration(node, withoutModifiers(node.modifiers, TOP_DROP), node.asteriskToken, node.name, node.typeParameters, node.parameters, node.type, undefined);
    return { ...base, kind: "function", alias, signature: printNode(head, sf), members: [] };
  }
  if (ts.isEnumDeclaration(node)) {
    const isConst = node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ConstKeyword);
    return { ...base, kind: "enum", alias, signature: `${isConst ? "const " : ""}enum ${node.name.text}`, members: enumMembers(node, sf) };
  }
  if (ts.isVariableStatement(node)) {
    const declaration = node.declarationList.declarations.find((d) => d.name.getText() === localName) ?? node.declarationList.declarations[0];
    const list = f.updateVariableDeclarationList(node.declarationList, [declaration]);
    return { ...base, kind: "const", alias, signature: printNode(list, sf), members: [] };
  }
  if (ts.isTypeAliasDeclaration(node)) {
    const head = f.updateTypeAliasDeclaration(node, withoutModifiers(node.modifiers, TOP_DROP), node.name, node.typeParameters, node.type);
    return { ...base, kind: "type", alias, signature: printNode(head, sf), members: [] };
  }
  if (ts.isInterfaceDeclaration(node)) {
    const head = f.updateInterfaceDeclaration(node, withoutModifiers(node.modifiers, TOP_DROP), node.name, node.typeParameters, node.heritageClauses, []);
    return { ...base, kind: "interface", alias, signature: printNode(head, sf).replace(/\s*\{\s*\}$/, ""), members: interfaceMembers(node, sf) };
  }
  if (ts.isModuleDeclaration(node)) {
    return { ...base, kind: "namespace", alias, signature: `namespace ${node.name.getText()}`, members: namespaceMembers(node, sf, exportedName) };
  }
  throw new Error(`${file}: cannot describe a ${ts.SyntaxKind[node.kind]}`);
}

function memberVisibility(member) {
  const modifiers = ts.canHaveModifiers(member) ? ts.getModifiers(member) ?? [] : [];
  if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return "private";
  if (modifiers.some((m) => m.kind === ts.SyntaxKind.ProtectedKeyword)) return "protected";
  if (member.name && ts.isPrivateIdentifier(member.name)) return "private";
  return "public";
}

function classMembers(node, sf) {
  const f = ts.factory;
  const members = [];
  for (const member of node.members) {
    const doc = docComment(member, sf);
    if (memberVisibility(member) === "private" || isInternal(doc)) continue;
    if (ts.isConstructorDeclaration(member)) {
      const params = member.parameters.map((p) => f.updateParameterDeclaration(p, undefined, p.dotDotDotToken, p.name, p.questionToken, p.type, p.initializer));
      members.push({ name: "constructor", kind: "constructor", doc, signature: printNode(f.createConstructorDeclaration(undefined, params, undefined), sf) });
      // Parameter properties are fields of the class.
      for (const param of member.parameters) {
        const paramModifiers = ts.getModifiers(param) ?? [];
        if (paramModifiers.length === 0) continue;
        const paramDoc = docComment(param, sf);
        if (memberVisibility(param) === "private" || isInternal(paramDoc)) continue;
        const kept = withoutModifiers(paramModifiers, MEMBER_DROP);
        const property = f.createPropertyDeclaration(kept, param.name.getText(), undefined, param.type, undefined);
        members.push({ name: param.name.getText(), kind: "field", doc: paramDoc, signature: printNode(property, sf) });
      }
    } else if (ts.isMethodDeclaration(member)) {
      const head = f.updateMethodDeclaration(member, withoutModifiers(member.modifiers, MEMBER_DROP), member.asteriskToken, member.name, member.questionToken, member.typeParameters, member.parameters, member.type, undefined);
      members.push({ name: member.name.getText(), kind: "method", doc, signature: printNode(head, sf) });
    } else if (ts.isGetAccessorDeclaration(member)) {
      const head = f.updateGetAccessorDeclaration(member, withoutModifiers(member.modifiers, MEMBER_DROP), member.name, member.parameters, member.type, undefined);
      members.push({ name: member.name.getText(), kind: "getter", doc, signature: printNode(head, sf) });
    } else if (ts.isSetAccessorDeclaration(member)) {
      const head = f.updateSetAccessorDeclaration(member, withoutModifiers(member.modifiers, MEMBER_DROP), member.name, member.parameters, undefined);
      members.push({ name: member.name.getText(), kind: "setter", doc, signature: printNode(head, sf) });
    } else if (ts.isPropertyDeclaration(member)) {
      // The initializer is shown only when there is no type to show.
      const init = member.type ? undefined : member.initializer;
      const head = f.updatePropertyDeclaration(member, withoutModifiers(member.modifiers, MEMBER_DROP), member.name, member.questionToken ?? member.exclamationToken, member.type, init);
      members.push({ name: member.name.getText(), kind: "field", doc, signature: printNode(head, sf) });
    }
  }
  return members;
}

function interfaceMembers(node, sf) {
  return node.members.map((member) => ({
    name: member.name ? member.name.getText() : "(signature)",
    kind: ts.isMethodSignature(member) ? "method" : "field",
    doc: docComment(member, sf),
    signature: printNode(member, sf),
  })).filter((m) => !isInternal(m.doc));
}

function enumMembers(node, sf) {
  const members = [];
  let next = 0;
  for (const member of node.members) {
    let value;
    if (member.initializer) {
      value = member.initializer.getText(sf);
      const numeric = Number(value);
      next = Number.isInteger(numeric) ? numeric + 1 : NaN;
    } else {
      value = Number.isNaN(next) ? "(computed)" : String(next);
      next += 1;
    }
    members.push({ name: member.name.getText(sf), kind: "value", doc: docComment(member, sf), signature: value });
  }
  return members;
}

function namespaceMembers(node, sf, namespaceName) {
  const members = [];
  const body = node.body && ts.isModuleBlock(node.body) ? node.body : null;
  if (body === null) return members;
  for (const statement of body.statements) {
    if (!hasExportModifier(statement)) continue;
    for (const name of declaredNames(statement)) {
      const described = describe(statement, "", sf, name);
      if (isInternal(described.doc)) continue;
      // Shown as called: `log.info(...)`, not as declared inside the namespace.
      const signature = described.signature.replace(/^(function|const|let|var|class|enum) (\w+)/, (_, keyword, local) =>
        keyword === "function" ? `${namespaceName}.${local}` : `${keyword} ${namespaceName}.${local}`);
      members.push({ name: `${namespaceName}.${name}`, kind: described.kind, doc: described.doc, signature });
    }
  }
  return members;
}

// ---------------------------------------------------------------------------------------------
// Checks

/**
 * The public symbols without a doc comment, as `file: Name` or `file: Name.member` strings.
 * Enum values and constructors are exempt: the enum's and the class's own comments cover them,
 * and the constructor's parameters are listed (and documented) as fields when they are public.
 * Empty when all are documented.
 */
export function findUndocumented(surface) {
  const missing = [];
  for (const module of surface.modules) {
    for (const symbol of module.symbols) {
      if (!symbol.doc) missing.push(`${module.file}: ${symbol.name}`);
      for (const member of symbol.members) {
        if (member.kind === "value" || member.kind === "constructor") continue;
        if (!member.doc) missing.push(`${module.file}: ${member.name.includes(".") ? member.name : `${symbol.name}.${member.name}`}`);
      }
    }
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Rendering

export function anchorOf(name) {
  return `ref-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

function fileAnchor(file) {
  return `file-${file.replace(/^assembly\//, "").replace(/\.ts$/, "").toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

function docBlock(doc) {
  return doc ? `${doc}\n\n` : "*(undocumented)*\n\n";
}

function indent(text, prefix) {
  return text.split("\n").map((line) => (line ? prefix + line : line)).join("\n");
}

function renderMembers(symbol) {
  if (symbol.members.length === 0) return "";
  if (symbol.kind === "enum") {
    const rows = symbol.members.map((m) => `| \`${m.name}\` | \`${m.signature}\` | ${m.doc.replace(/\n+/g, " ").replace(/\|/g, "\\|")} |`);
    return `| Value | Number | Meaning |\n| --- | --- | --- |\n${rows.join("\n")}\n\n`;
  }
  const items = symbol.members.map((m) => {
    const doc = m.doc ? indent(m.doc, "  ") : "  *(undocumented)*";
    return `- \`${m.signature}\`\n\n${doc}\n`;
  });
  return `${items.join("\n")}\n`;
}

/** The complete Markdown text of docs/reference.md for `surface`. */
export function renderReference(surface) {
  const out = [];
  out.push("# SDK reference\n");
  out.push("<!-- Generated by scripts/gen-reference.mjs from assembly/index.ts: do not edit by hand. Run `node scripts/gen-reference.mjs` after changing the SDK; `--check` (run by tests/docs/reference.test.ts) fails while this file is stale. -->\n");
  out.push(
    "Everything a filter can import from `proxy-wasm-as/assembly`, grouped by the SDK file that " +
      "defines it. Signatures are AssemblyScript. Doc comments say in which callbacks a call is " +
      "legal and what it returns otherwise; [concepts.md](concepts.md) has the same rules as one table.\n",
  );
  out.push("## Contents\n");
  for (const module of surface.modules) {
    out.push(`- [${module.title}](#${fileAnchor(module.file)}): ${module.symbols.map((s) => `[\`${s.name}\`](#${anchorOf(s.name)})`).join(", ")}`);
  }
  out.push("");
  for (const module of surface.modules) {
    out.push(`<a id="${fileAnchor(module.file)}"></a>\n`);
    out.push(`## ${module.title}\n`);
    out.push(`Source: \`${module.file}\`${module.intro ? `. ${module.intro}` : ""}\n`);
    for (const symbol of module.symbols) {
      out.push(`<a id="${anchorOf(symbol.name)}"></a>\n`);
      out.push(`### ${symbol.kind} \`${symbol.name}\`${symbol.alias}\n`);
      out.push(`\`\`\`ts\n${symbol.signature}\n\`\`\`\n`);
      out.push(docBlock(symbol.doc).trimEnd() + "\n");
      const members = renderMembers(symbol);
      if (members) out.push(members.trimEnd() + "\n");
    }
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

// Splits a rendered reference into blocks keyed by their anchor, to name what changed.
function blocksOf(text) {
  const blocks = new Map();
  let key = "(header and contents)";
  let lines = [];
  for (const line of text.split("\n")) {
    const match = /^<a id="(ref-[^"]+|file-[^"]+)"><\/a>$/.exec(line);
    if (match) {
      blocks.set(key, lines.join("\n"));
      key = match[1];
      lines = [];
    } else {
      lines.push(line);
    }
  }
  blocks.set(key, lines.join("\n"));
  return blocks;
}

/**
 * What differs between the reference the code generates (`expected`) and the one on disk
 * (`actual`), as human-readable lines; empty when they are identical.
 */
export function diffReference(expected, actual) {
  if (expected === actual) return [];
  const want = blocksOf(expected);
  const have = blocksOf(actual);
  const lines = [];
  for (const [key, text] of want) {
    if (!have.has(key)) lines.push(`missing from the reference: ${key}`);
    else if (have.get(key) !== text) lines.push(`out of date: ${key}${firstDifference(text, have.get(key))}`);
  }
  for (const key of have.keys()) if (!want.has(key)) lines.push(`no longer in the code: ${key}`);
  if (lines.length === 0) lines.push("the order of the sections differs");
  return lines;
}

function firstDifference(want, have) {
  const a = want.split("\n");
  const b = have.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return ` (expected ${JSON.stringify(a[i] ?? "")}, found ${JSON.stringify(b[i] ?? "")})`;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const options = { check: false, undocumented: false, root: repoRoot, out: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") options.check = true;
    else if (arg === "--undocumented") options.undocumented = true;
    else if (arg === "--root") options.root = resolve(argv[++i] ?? "");
    else if (arg === "--out") options.out = resolve(argv[++i] ?? "");
    else throw new Error(`unknown argument: ${arg}`);
  }
  options.out ??= join(options.root, OUTPUT);
  return options;
}

function runCli(argv) {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${error.message}\nUsage: node scripts/gen-reference.mjs [--check] [--undocumented] [--root DIR] [--out FILE]\n`);
    return 2;
  }
  const surface = collectSurface(options.root);
  if (options.undocumented) {
    const missing = findUndocumented(surface);
    process.stdout.write(`${JSON.stringify(missing, null, 2)}\n`);
    return missing.length ? 1 : 0;
  }
  const expected = renderReference(surface);
  // Named relative to the repository read, so the message reads the same from any directory.
  const fromRoot = relative(options.root, options.out);
  const shown = fromRoot && !fromRoot.startsWith("..") ? fromRoot.split("\\").join("/") : options.out;
  if (options.check) {
    const actual = existsSync(options.out) ? readFileSync(options.out, "utf8") : "";
    const differences = actual === "" ? [`${shown} does not exist`] : diffReference(expected, actual);
    if (differences.length === 0) {
      process.stdout.write(`${shown} is up to date\n`);
      return 0;
    }
    process.stderr.write(`${shown} is out of date; run \`node scripts/gen-reference.mjs\`:\n${differences.map((d) => `  ${d}`).join("\n")}\n`);
    return 1;
  }
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, expected);
  process.stdout.write(`wrote ${shown}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = runCli(process.argv.slice(2));
}
