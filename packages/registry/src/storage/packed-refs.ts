/** @internal A packed-refs file parsed: ref name -> object id (peeled `^` lines skipped). */
export function parsePackedRefs(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text?.split('\n') ?? []) {
    const m = /^([0-9a-f]{40}) (refs\/\S+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}
