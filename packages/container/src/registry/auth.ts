/** Credentials for a registry: a user name and password (or access token as password), or a bearer token. */
export interface RegistryCredentials {
  /** User name (basic auth, or sent to the token service). */
  username?: string;
  /** Password or personal access token. */
  password?: string;
  /** A ready bearer token (sent as `Authorization: Bearer`); no token service round trip. */
  token?: string;
}

/** A parsed `WWW-Authenticate` challenge. @internal */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"`
 * (quoted or token values, commas inside quotes, several params). @internal
 */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2] ?? '';
  re.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (match = re.exec(rest)) !== null) {
    params[(match[1] ?? '').toLowerCase()] =
      match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
  }
  return { scheme, params };
}
