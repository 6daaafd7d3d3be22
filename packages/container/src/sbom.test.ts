import { describe, expect, it } from 'vitest';
import { spdxSbom } from './sbom';

describe('spdxSbom', () => {
  const pkgs = [
    { name: '@mlship/serve', version: '0.1.0', dependsOn: ['yaml@2.9.1', '@fastify/x@1.0.0'] },
    { name: 'yaml', version: '2.9.1', integrity: 'sha512-3q2+7w==', license: 'ISC' },
    { name: '@fastify/x', version: '1.0.0', integrity: 'sha512-AAEC', license: 'MIT' },
  ];

  it('lists each package with version, purl, the lockfile integrity as a SHA512 checksum, and DEPENDS_ON', () => {
    const doc = spdxSbom('cnn model server', pkgs);
    expect(doc.spdxVersion).toBe('SPDX-2.3');
    expect(doc.packages.map((p) => p.name)).toEqual(['@mlship/serve', '@fastify/x', 'yaml']);
    const yaml = doc.packages.find((p) => p.name === 'yaml');
    expect(yaml?.checksums).toEqual([{ algorithm: 'SHA512', checksumValue: 'deadbeef' }]);
    expect(yaml?.comment).toMatch(/integrity sha512-3q2\+7w==/);
    expect(yaml?.licenseDeclared).toBe('ISC');
    expect(
      doc.packages.find((p) => p.name === '@fastify/x')?.externalRefs[0]?.referenceLocator,
    ).toBe('pkg:npm/%40fastify/x@1.0.0');
    expect(doc.relationships.filter((r) => r.relationshipType === 'DEPENDS_ON')).toHaveLength(2);
    expect(doc.relationships[0]).toMatchObject({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
    });
  });

  it('is deterministic: the same packages in another order give the same document', () => {
    const [a, b, c] = pkgs;
    expect(JSON.stringify(spdxSbom('x', [a!, c!, b!]))).toBe(JSON.stringify(spdxSbom('x', pkgs)));
    expect(spdxSbom('x', pkgs).documentNamespace).not.toBe(
      spdxSbom('x', pkgs.slice(0, 2)).documentNamespace,
    );
  });
});
