/**
 * Reads the error codes docs/contracts.md lists for each package: the `- Errors:` item of the
 * package's section — the text under a `##` or `###` heading that names the package
 * (`## 3. Versions: @mlship/registry`) — or, for @mlship/core, its `- Shared codes` item. Codes are
 * the upper-case words in quotes or backticks (`'INTEGRITY'`, `` `READ_FAILED` ``); `SharedErrorCode`
 * or "the shared codes" stands for every code of core's `SHARED_ERROR_CODES`.
 */

/** The codes listed for one package, and whether the list said "the shared codes". */
export interface ListedCodes {
  codes: Set<string>;
  includesShared: boolean;
  /** The item's text, for messages. */
  text: string;
}

const CODE = /['`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)['`]/g;

const PACKAGE = /@mlship\/[a-z0-9-]+/g;

/**
 * The package sections of the contracts page, by package name. A `##` or `###` heading that names
 * exactly one package (`### Writing and loading it: @mlship/tf`) starts that package's section; any
 * other `##` or `###` heading ends it (the page follows the data flow, so a stage's heading may name
 * no package). Deeper headings stay inside the section.
 *
 * @param markdown - docs/contracts.md
 * @returns section text by package name (`@mlship/data`)
 */
export function contractSections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (current !== undefined)
      out.set(current, [out.get(current), ...lines].filter((l) => l !== undefined).join('\n'));
  };
  for (const line of markdown.split('\n')) {
    const heading = /^#{2,3} (.*)$/.exec(line)?.[1];
    if (heading !== undefined) {
      flush();
      const named = [...new Set(heading.match(PACKAGE) ?? [])];
      current = named.length === 1 ? named[0] : undefined;
      lines = [];
    } else if (current !== undefined) lines.push(line);
  }
  flush();
  return out;
}

/**
 * The error codes a section lists.
 *
 * @param section - the section's text
 * @returns the listed codes, or undefined when the section has no errors item
 */
export function listedErrorCodes(section: string): ListedCodes | undefined {
  const lines = section.split('\n');
  const start = lines.findIndex((l) => /^- (Errors:|Shared codes)/.test(l));
  if (start < 0) return undefined;
  const item = [lines[start] ?? ''];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('- ') || line.startsWith('#') || line.trim() === '') break;
    item.push(line);
  }
  const text = item.join('\n');
  const codes = new Set<string>();
  for (const m of text.matchAll(CODE)) {
    const code = m[1] ?? '';
    if (!code.endsWith('_ERROR_CODES')) codes.add(code);
  }
  return { codes, includesShared: /SharedErrorCode|the shared codes/.test(text), text };
}
