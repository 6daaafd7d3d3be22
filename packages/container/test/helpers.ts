import { execFileSync } from 'node:child_process';
import { sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A bcrypt htpasswd line (distribution only accepts bcrypt), made with Debian's apache2-utils. */
export function htpasswdLine(user: string, password: string): string {
  return execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim();
}

/** A self-signed RSA certificate and key, made with openssl, for the token service. */
export function makeSigningCert(dir: string): {
  certFile: string;
  keyFile: string;
  certDer: string;
  keyPem: string;
} {
  const certFile = join(dir, 'token.crt');
  const keyFile = join(dir, 'token.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=mlship-test-token',
    ],
    {
      stdio: 'ignore',
    },
  );
  const cert = new X509Certificate(readFileSync(certFile));
  return {
    certFile,
    keyFile,
    certDer: cert.raw.toString('base64'),
    keyPem: readFileSync(keyFile, 'utf8'),
  };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** What the token service saw: each request's user and scopes. */
export interface TokenRequest {
  user: string | undefined;
  service: string | null;
  scopes: string[];
}

/**
 * A minimal Docker token service (the `auth: token` flow of distribution) on 127.0.0.1: checks basic
 * credentials, grants the requested scopes, and signs an RS256 JWT whose x5c is the cert in the
 * registry's rootcertbundle.
 */
export async function startTokenServer(options: {
  users: Record<string, string>;
  issuer: string;
  service: string;
  certDer: string;
  keyPem: string;
  allowAnonymousPull?: boolean;
}): Promise<{ realm: string; requests: TokenRequest[]; close(): Promise<void> }> {
  const requests: TokenRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const auth = req.headers.authorization;
    let user: string | undefined;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (u === undefined || options.users[u] !== p.join(':')) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"details":"bad credentials"}');
        requests.push({
          user: u,
          service: url.searchParams.get('service'),
          scopes: url.searchParams.getAll('scope'),
        });
        return;
      }
      user = u;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push({ user, service: url.searchParams.get('service'), scopes });
    const access = scopes
      .map((s) => s.split(':'))
      .filter((p) => p.length >= 3)
      .map((p) => {
        const actions = (p[p.length - 1] ?? '').split(',');
        return {
          type: p[0],
          name: p.slice(1, -1).join(':'),
          actions:
            user === undefined
              ? options.allowAnonymousPull
                ? actions.filter((a) => a === 'pull')
                : []
              : actions,
        };
      });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [options.certDer] };
    const claims = {
      iss: options.issuer,
      sub: user ?? '',
      aud: options.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: `${now}-${requests.length}`,
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('RSA-SHA256', Buffer.from(input), options.keyPem);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
