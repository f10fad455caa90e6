import { canonicalJson } from './canonical-json';

describe('canonicalJson (B3: one serialisation per value)', () => {
  it('B3: sorts object members by key at every depth, whatever the insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[true,null]},"b":1}',
    );
    expect(canonicalJson({ a: { c: 'x', d: [true, null] }, b: 1 })).toBe(
      canonicalJson({ b: 1, a: { d: [true, null], c: 'x' } }),
    );
  });

  it('B3: orders keys by UTF-16 code units (RFC 8785), not by locale', () => {
    expect(canonicalJson({ é: 1, z: 2, Z: 3, '10': 4, '9': 5 })).toBe('{"10":4,"9":5,"Z":3,"z":2,"é":1}');
  });

  it('B3: writes no whitespace and escapes strings as JSON does', () => {
    expect(canonicalJson({ s: 'a "quoted"\nline\u0001' })).toBe('{"s":"a \\"quoted\\"\\nline\\u0001"}');
  });

  it('B3: keeps array order (order is meaning there)', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson([3, 1, 2])).not.toBe(canonicalJson([1, 2, 3]));
  });

  it('B3: writes numbers in their shortest round-trip form', () => {
    expect(canonicalJson([1.0, 1e21, 0.1, -0, 1e-7])).toBe('[1,1e+21,0.1,0,1e-7]');
  });

  it('B3: leaves out undefined members, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it('B3: refuses what JSON cannot hold instead of writing null', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ n: Infinity })).toThrow(TypeError);
    expect(() => canonicalJson(10n)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });

  it('B3: tells apart values that differ only in type', () => {
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
  });
});
