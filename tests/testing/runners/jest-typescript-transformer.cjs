// A minimal jest transformer: TypeScript to ES2022 modules with `typescript.transpileModule`
// (no type check; `tsc --noEmit` does that). Jest loads transformers with require(), hence .cjs.
const ts = require("typescript");

module.exports = {
  process(sourceText, sourcePath) {
    const { outputText, sourceMapText } = ts.transpileModule(sourceText, {
      fileName: sourcePath,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        sourceMap: true,
        inlineSources: true,
        isolatedModules: true,
      },
    });
    return { code: outputText, map: sourceMapText };
  },
};
