import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describeError } from '@mlship/core';
import { ContainerError } from '../errors';
import type { RegistryCredentials } from './auth';

/**
 * Reads credentials for a registry from a Docker config file (`auths.<host>.auth`, base64
 * `user:password`, or `username`/`password`, or `identitytoken`/`registrytoken`). Credential
 * helpers (`credsStore`, `credHelpers`) run external programs and are not used: pass the
 * credentials as an option instead.
 *
 * @param registry - registry host, e.g. `ghcr.io`, `docker.io`, `127.0.0.1:5000`
 * @param file - the config file (default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`)
 * @param env - environment for `DOCKER_CONFIG` (default `process.env`)
 * @returns the credentials, or undefined when the file or the entry does not exist
 * @throws ContainerError `READ_FAILED` when the file exists but is not valid JSON
 * @example
 * ```ts
 * const creds = readDockerConfigCredentials('ghcr.io');
 * ```
 */
export function readDockerConfigCredentials(
  registry: string,
  file?: string,
  env: Record<string, string | undefined> = process.env,
): RegistryCredentials | undefined {
  const path = file ?? join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let json: { auths?: Record<string, Record<string, unknown>> };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new ContainerError('READ_FAILED', `${path}: not valid JSON: ${describeError(e)}`, {
      cause: e,
      data: { path },
    });
  }
  const auths = json.auths ?? {};
  const candidates =
    registry === 'docker.io'
      ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io']
      : [
          registry,
          `https://${registry}`,
          `http://${registry}`,
          `https://${registry}/v1/`,
          `https://${registry}/v2/`,
        ];
  for (const key of candidates) {
    const entry = auths[key];
    if (entry === undefined) continue;
    if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '')
      return { token: entry.identitytoken };
    if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '')
      return { token: entry.registrytoken };
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0)
        return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') {
      return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}
