import { ContainerError } from '../errors';
import type { ContainerErrorCode } from '../errors';

/**
 * The registry's `{"errors":[{"code","message"}]}` as one line, with the codes (plain text bodies
 * kept as they are, cut at 2,000 characters). @internal
 */
export async function errorBody(res: Response): Promise<{ text: string; codes: string[] }> {
  let text = '';
  try {
    text = (await res.text()).slice(0, 2000);
  } catch {
    return { text: '', codes: [] };
  }
  try {
    const json = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(json.errors)) {
      return {
        text: json.errors.map((e) => `${e.code ?? '?'}: ${e.message ?? ''}`).join('; '),
        codes: json.errors.map((e) => String(e.code ?? '')),
      };
    }
  } catch {
    // not JSON: keep the text
  }
  return { text: text.trim(), codes: [] };
}

/** Registry error codes that mean "the bytes are not what the digest or size says". */
const DIGEST_CODES = new Set(['DIGEST_INVALID', 'SIZE_INVALID']);

/**
 * Throws the typed error for an unexpected registry answer: `DIGEST_MISMATCH` when the registry
 * says the digest or size is wrong, else `REGISTRY_ERROR`, with the registry's own message. @internal
 */
export async function failWith(res: Response, registry: string, what: string): Promise<never> {
  const body = await errorBody(res);
  const code: ContainerErrorCode = body.codes.some((x) => DIGEST_CODES.has(x))
    ? 'DIGEST_MISMATCH'
    : 'REGISTRY_ERROR';
  throw new ContainerError(
    code,
    `${what}: ${registry} answered ${res.status}${body.text ? ` (${body.text})` : ''}`,
    {
      data: { registry, status: res.status, body: body.text },
    },
  );
}
