/**
 * Finds the code blocks of a README that the README test runs, and how each is marked.
 *
 * Every fenced block in `ts`, `js` or `sh` (aliases `typescript`, `javascript`, `bash`, `shell`)
 * runs as written, each block on its own, unless its info string says otherwise:
 *
 *     ```ts                                      runs (and is type-checked)
 *     ```ts no-run: trains for five minutes      type-checked only; the reason is required
 *     ```sh no-run: installs from the registry   syntax-checked only (bash -n)
 *
 * Blocks in other languages (`jsonc`, `text`, none) are documentation and are not touched. Any other
 * word after the language is an error, so a misspelt marker cannot silently skip a block.
 */

/** The languages the README test runs, by the name used in the fence. */
const LANGUAGES: Readonly<Record<string, CodeLanguage>> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
};

/** What a block is written in, as far as running it goes. */
export type CodeLanguage = 'ts' | 'js' | 'sh';

/** One runnable-language code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: CodeLanguage;
  /** The block's text with the list indentation removed, ending in a newline. */
  code: string;
  /** False when marked `no-run`. */
  run: boolean;
  /** Why it does not run (for `no-run` blocks). */
  reason?: string;
}

/** A fence marker the parser does not understand (a typo must not skip a block silently). */
export class BlockMarkerError extends Error {
  override name = 'BlockMarkerError';
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

/**
 * Extracts the `ts` / `js` / `sh` blocks of a Markdown document.
 *
 * @param markdown - the document
 * @param file - its path, for positions and messages
 * @returns the blocks in document order
 * @throws BlockMarkerError for an unknown marker or a `no-run` without a reason
 */
export function extractCodeBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const fence = open[2] ?? '```';
    const info = (open[3] ?? '').trim();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = FENCE.exec(lines[j] ?? '');
      if (
        close &&
        (close[2] ?? '').startsWith(fence[0] ?? '`') &&
        (close[2] ?? '').length >= fence.length &&
        (close[3] ?? '').trim() === ''
      )
        break;
      body.push(lines[j] ?? '');
    }
    const [word = '', ...rest] = info.split(/\s+/);
    const lang = LANGUAGES[word.toLowerCase()];
    if (lang !== undefined) {
      const where = `${file}:${i + 1}`;
      const meta = rest.join(' ').trim();
      const block: CodeBlock = {
        file,
        line: i + 1,
        lang,
        code: `${body.map((l) => (l.slice(0, indent).trim() === '' ? l.slice(indent) : l)).join('\n')}\n`,
        run: true,
      };
      if (meta !== '') {
        const marker = /^no-run\b\s*[:\-—–]?\s*(.*)$/.exec(meta);
        if (!marker) {
          throw new BlockMarkerError(
            `${where}: unknown code block marker ${JSON.stringify(meta)} (expected nothing, or "no-run: <reason>")`,
          );
        }
        const reason = (marker[1] ?? '').trim();
        if (reason === '') {
          throw new BlockMarkerError(
            `${where}: a no-run block must say why it cannot run ("no-run: <reason>")`,
          );
        }
        block.run = false;
        block.reason = reason;
      }
      blocks.push(block);
    }
    i = j;
  }
  return blocks;
}

/**
 * The bare module specifiers a JS/TS block imports or resolves (`import`, `export ... from`,
 * `import()`, `require()`, `require.resolve()` / `import.meta.resolve()`), reduced to package
 * names (`pngjs`, `@mlship/data`; not `node:fs` or `./x`).
 *
 * @param code - the block
 * @returns package names, sorted, without duplicates
 */
export function importedPackages(code: string): string[] {
  const names = new Set<string>();
  const specifiers = code.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*|\.resolve\s*\(\s*)['"]([^'"]+)['"]/g,
  );
  for (const m of specifiers) {
    const spec = m[1] ?? '';
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
  }
  return [...names].sort();
}
