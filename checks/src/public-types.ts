import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import type { WorkspacePackage } from './workspace';

/** One entry point of a package (`@mlship/registry`, `@mlship/registry/testing`). */
export interface PackageEntry {
  /** The specifier a user imports. */
  specifier: string;
  /** The ESM declaration file of the entry (the `import` -> `types` of its `exports` branch). */
  types: string;
}

/** The entry points of a package, from its `exports` map (`./package.json` left out). */
export function entriesOf(pkg: WorkspacePackage): PackageEntry[] {
  const out: PackageEntry[] = [];
  for (const [key, value] of Object.entries(pkg.manifest.exports ?? {})) {
    if (key === './package.json') continue;
    const branch = (value as { import?: { types?: string } }).import;
    if (branch?.types === undefined) continue;
    out.push({
      specifier: key === '.' ? pkg.manifest.name : `${pkg.manifest.name}/${key.slice(2)}`,
      types: join(pkg.dir, branch.types),
    });
  }
  return out;
}

/** What the walk found for one entry. */
export interface EntryTypes {
  entry: PackageEntry;
  /** Names exported by the entry (values and types). */
  exported: string[];
  /**
   * Named types declared in the package itself that an exported declaration refers to,
   * transitively (a parameter, a return type, a property, a base class...), with the export
   * they were reached from, and that the entry does not export. Declarations tagged `@internal`
   * and the types of unexported values (`typeof x`) are left out: they are implementation.
   */
  referenced: Map<string, string>;
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !rel.split(sep).includes('node_modules');
}

function isInternal(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some((d) =>
    ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'internal'),
  );
}

/**
 * Walks the declarations of a package's built entry points and lists every named type of the
 * package that its public API refers to, so a test can check each is importable from the entry.
 *
 * @param pkg - the package (built: its `dist/*.d.ts` exist)
 * @returns one result per entry
 */
export function publicTypesOf(pkg: WorkspacePackage): EntryTypes[] {
  const entries = entriesOf(pkg);
  const program = ts.createProgram(
    entries.map((e) => e.types),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();
  const distDir = dirname(entries[0]?.types ?? join(pkg.dir, 'dist', 'index.d.ts'));
  const resolve = (s: ts.Symbol): ts.Symbol =>
    s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  const own = (s: ts.Symbol): boolean =>
    (s.declarations ?? []).some((d) => isInside(d.getSourceFile().fileName, distDir));

  return entries.map((entry) => {
    const source = program.getSourceFile(entry.types);
    const moduleSymbol = source ? checker.getSymbolAtLocation(source) : undefined;
    const exports = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
    const exportedTargets = new Set(exports.map(resolve));
    const referenced = new Map<string, string>();
    const visited = new Set<ts.Symbol>();

    const visitSymbol = (symbol: ts.Symbol, from: string): void => {
      const target = resolve(symbol);
      if (visited.has(target)) return;
      visited.add(target);
      if (target.flags & ts.SymbolFlags.TypeParameter) return;
      if (!own(target)) return;
      // Documented internals (`@internal`) are type machinery the author chose not to publish.
      if (isInternal(target)) return;
      if (!exportedTargets.has(target)) referenced.set(target.getName(), from);
      for (const d of target.declarations ?? []) visitNode(d, from);
    };
    const visitNode = (node: ts.Node, from: string): void => {
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
        const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
        const s = checker.getSymbolAtLocation(name);
        if (s) visitSymbol(s, from);
      } else if (ts.isTypeQueryNode(node)) {
        // `typeof value`: the value's type is public only when the value itself is exported.
        const s = checker.getSymbolAtLocation(node.exprName);
        if (s && exportedTargets.has(resolve(s))) visitSymbol(s, from);
        return;
      }
      // Bodies of functions and initialisers are not part of a declaration file's API.
      ts.forEachChild(node, (child) => visitNode(child, from));
    };
    for (const symbol of exports) visitSymbol(symbol, symbol.getName());
    return { entry, exported: exports.map((s) => s.getName()).sort(), referenced };
  });
}
