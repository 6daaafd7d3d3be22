import { sha256Digest } from './digest';
import { epochToRfc3339 } from './epoch';

/** One npm package listed in an SBOM. */
export interface SbomPackage {
  /** Package name. */
  name: string;
  /** Version. */
  version: string;
  /** Subresource integrity from the lockfile (`sha512-<base64>`), when the lockfile lists it (workspace packages have none). */
  integrity?: string;
  /** Declared license. */
  license?: string;
  /** Where it is in the image, e.g. `/app/node_modules/fastify`. */
  path?: string;
  /** The packages it depends on (within the list), as `name@version`. */
  dependsOn?: string[];
}

/** An SPDX 2.3 JSON document (the subset this package writes). */
export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

/** One SPDX package entry. */
export interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo: string;
  downloadLocation: string;
  filesAnalyzed: false;
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  comment?: string;
}

const SRI_ALGORITHMS: Record<string, string> = {
  sha512: 'SHA512',
  sha384: 'SHA384',
  sha256: 'SHA256',
  sha1: 'SHA1',
};

/** `pkg:npm/%40scope/name@1.0.0` (package-url spec). */
function purl(name: string, version: string): string {
  const n = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${n}@${encodeURIComponent(version)}`;
}

function spdxId(i: number, name: string, version: string): string {
  return `SPDXRef-Package-npm-${name.replace(/[^A-Za-z0-9.]/g, '-')}-${version.replace(/[^A-Za-z0-9.]/g, '-')}-${i}`;
}

function licenseExpr(license: string | undefined): string {
  return license !== undefined && /^[A-Za-z0-9.+\- ()]+$/.test(license) ? license : 'NOASSERTION';
}

/**
 * Writes an SPDX 2.3 JSON SBOM of npm packages: each with name, version, purl, the lockfile's
 * integrity as a checksum (SHA-512 in hex) and the SRI string in a comment, its declared license,
 * and DEPENDS_ON relationships. Deterministic: sorted, dated at the source date epoch, namespaced
 * by a hash of its content, so an unchanged dependency set gives the same bytes (and blob) every time.
 *
 * @param name - what the document describes, e.g. `cnn model server`
 * @param packages - the packages (the first is the one the document DESCRIBES)
 * @param epochSeconds - creation time (default 0)
 * @returns the SPDX document
 * @throws never
 * @example
 * ```ts
 * const doc = spdxSbom('demo', [{ name: 'yaml', version: '2.9.1', integrity: 'sha512-...' }]);
 * console.log(doc.packages[0]?.checksums);
 * ```
 */
export function spdxSbom(
  name: string,
  packages: readonly SbomPackage[],
  epochSeconds = 0,
): SpdxDocument {
  const [first, ...rest] = packages;
  const sorted =
    first === undefined
      ? []
      : [
          first,
          ...[...rest].sort((a, b) =>
            a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1,
          ),
        ];
  const ids = new Map<string, string>();
  const spdxPackages: SpdxPackage[] = sorted.map((p, i) => {
    const id = spdxId(i, p.name, p.version);
    const key = `${p.name}@${p.version}`;
    if (!ids.has(key)) ids.set(key, id);
    const out: SpdxPackage = {
      name: p.name,
      SPDXID: id,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: licenseExpr(p.license),
      copyrightText: 'NOASSERTION',
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: purl(p.name, p.version),
        },
      ],
    };
    const sri =
      p.integrity === undefined
        ? undefined
        : /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)/.exec(p.integrity);
    if (sri?.[1] !== undefined && sri[2] !== undefined) {
      out.checksums = [
        {
          algorithm: SRI_ALGORITHMS[sri[1]] as string,
          checksumValue: Buffer.from(sri[2], 'base64').toString('hex'),
        },
      ];
    }
    const notes = [
      p.integrity === undefined
        ? 'no lockfile integrity (workspace or local package)'
        : `integrity ${p.integrity}`,
    ];
    if (p.path !== undefined) notes.push(`installed at ${p.path}`);
    out.comment = notes.join('; ');
    return out;
  });
  const relationships: SpdxDocument['relationships'] = [];
  if (spdxPackages[0] !== undefined)
    relationships.push({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: spdxPackages[0].SPDXID,
    });
  sorted.forEach((p, i) => {
    for (const dep of [...(p.dependsOn ?? [])].sort()) {
      const target = ids.get(dep);
      if (target !== undefined)
        relationships.push({
          spdxElementId: spdxPackages[i]?.SPDXID as string,
          relationshipType: 'DEPENDS_ON',
          relatedSpdxElement: target,
        });
    }
  });
  const body = { packages: spdxPackages, relationships };
  const hash = sha256Digest(JSON.stringify(body)).slice(7, 39);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://spdx.org/spdxdocs/mlship-${name.replace(/[^A-Za-z0-9.-]/g, '-')}-${hash}`,
    creationInfo: { created: epochToRfc3339(epochSeconds), creators: ['Tool: mlship-container'] },
    ...body,
  };
}
