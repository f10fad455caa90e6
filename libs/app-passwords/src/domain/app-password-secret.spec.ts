import { inspect } from 'node:util';
import {
  APP_PASSWORD_ENTROPY_BITS,
  APP_PASSWORD_LENGTH,
  checksumLetters,
  isWellFormedAppPassword,
  normaliseAppPassword,
  mayHoldAppPassword,
  recogniseAppPasswords,
} from './app-password-format';
import { AppPasswordSecret, generateAppPassword, RandomBytes, randomLetters } from './app-password-secret';
import { crc32 } from './crc32';

/** A deterministic byte source (xorshift32) standing in for the CSPRNG. */
const seededBytes = (seed: number): RandomBytes => {
  let x = seed >>> 0 || 1;
  return (size) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      bytes[i] = x & 0xff;
    }
    return bytes;
  };
};

const fixedBytes =
  (...values: number[]): RandomBytes =>
  (size) =>
    Uint8Array.from({ length: size }, (_, i) => values[i % values.length]);

describe('app password secrets', () => {
  it('R2: generates 24 lower-case letters: prefix, 16 random letters, 6 checksum letters', () => {
    const secret = generateAppPassword(seededBytes(7));
    expect(secret.reveal()).toMatch(/^lk[a-z]{22}$/);
    expect(secret.reveal()).toHaveLength(APP_PASSWORD_LENGTH);
    expect(secret.display()).toMatch(/^lk[a-z]{2}( [a-z]{4}){5}$/);
    expect(isWellFormedAppPassword(secret.reveal())).toBe(true);
  });

  it('R2: carries at least 75 bits of entropy (16 × log2 26 ≈ 75.2)', () => {
    expect(APP_PASSWORD_ENTROPY_BITS).toBeGreaterThanOrEqual(75);
    expect(APP_PASSWORD_ENTROPY_BITS).toBeCloseTo(75.207, 3);
  });

  it('R2: the real CSPRNG gives a different app password every time', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateAppPassword().reveal()));
    expect(seen.size).toBe(1000);
  });

  it('rejection sampling: bytes of 234 and above are drawn again, so no letter is favoured', () => {
    expect(randomLetters(4, fixedBytes(255, 234, 0, 25, 233, 26))).toBe('azza');
    expect(() => randomLetters(4, fixedBytes(250))).toThrow(/too few usable bytes/);
  });

  it('letters are close to uniform over many draws', () => {
    const counts = new Map<string, number>();
    for (const letter of randomLetters(26_000, seededBytes(42)))
      counts.set(letter, (counts.get(letter) ?? 0) + 1);
    expect(counts.size).toBe(26);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  it('never shows its letters in logs, JSON or string conversion', () => {
    const secret = generateAppPassword(seededBytes(3));
    const letters = secret.reveal();
    for (const shown of [
      String(secret),
      `${secret}`,
      JSON.stringify({ secret }),
      inspect(secret),
      inspect({ secret }),
    ]) {
      expect(shown).not.toContain(letters.slice(2, 10));
    }
  });

  it('refuses to build from anything but 16 lower-case letters', () => {
    expect(() => AppPasswordSecret.fromRandomLetters('abc')).toThrow(RangeError);
    expect(() => AppPasswordSecret.fromRandomLetters('ABCDEFGHIJKLMNOP')).toThrow(RangeError);
  });
});

describe('app password format (B12)', () => {
  const secret = AppPasswordSecret.fromRandomLetters('qzrmtbxwpevhcadn');
  const letters = secret.reveal();

  it('B12: the checksum is CRC-32 of prefix and random letters, in base 26', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    const value = crc32(letters.slice(0, 18)) % 26 ** 6;
    const decoded = [...checksumLetters(letters.slice(0, 18))].reduce(
      (n, c) => n * 26 + c.charCodeAt(0) - 97,
      0,
    );
    expect(decoded).toBe(value);
    expect(letters.slice(18)).toBe(checksumLetters(letters.slice(0, 18)));
  });

  it('B12: normalising strips spaces and dashes, folds case and full-width letters', () => {
    const grouped = secret.display();
    expect(normaliseAppPassword(grouped)).toBe(letters);
    expect(normaliseAppPassword(grouped.toUpperCase().replace(/ /g, '-'))).toBe(letters);
    expect(normaliseAppPassword(` ${grouped.replace(/ /g, '\u2013')}\n`)).toBe(letters);
    const fullWidth = [...letters].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    expect(normaliseAppPassword(fullWidth)).toBe(letters);
  });

  it('B12: a single mistyped letter breaks the checksum', () => {
    for (let i = 2; i < letters.length; i++) {
      const typo = letters.slice(0, i) + (letters[i] === 'a' ? 'b' : 'a') + letters.slice(i + 1);
      expect(isWellFormedAppPassword(typo)).toBe(false);
    }
  });

  it('B12: recognises app passwords in arbitrary text, whatever the grouping and case', () => {
    const other = generateAppPassword(seededBytes(11));
    const text = [
      `my mail password is ${secret.display()}, please don't share`,
      `config: password="${other.reveal().toUpperCase()}"`,
      `again: ${secret.display().replace(/ /g, '-')}.`,
      `wrapped: ${secret.display().slice(0, 14)}\r\n${secret.display().slice(15)}`,
    ].join('\n');
    expect(recogniseAppPasswords(text)).toEqual([letters, other.reveal()]);
  });

  it('B12: ignores look-alikes: wrong checksum, part of a longer word, wrong grouping', () => {
    const broken = letters.slice(0, 23) + (letters[23] === 'a' ? 'b' : 'a');
    expect(recogniseAppPasswords(`password: ${broken}`)).toEqual([]);
    expect(recogniseAppPasswords(`x${letters}`)).toEqual([]);
    expect(recogniseAppPasswords(`${letters}9`)).toEqual([]);
    expect(recogniseAppPasswords(`${letters.slice(0, 3)} ${letters.slice(3)}`)).toEqual([]);
  });

  it('B12: near-zero false positives on random letters shaped like an app password', () => {
    const bytes = seededBytes(2026);
    let hits = 0;
    for (let i = 0; i < 50_000; i++) {
      if (recogniseAppPasswords(`lk${randomLetters(22, bytes)}`).length > 0) hits++;
    }
    // Expected 50 000 × 26^-6 ≈ 0.0002.
    expect(hits).toBe(0);
  });

  it('B12: finds nothing in ordinary prose and code', () => {
    const prose =
      'The quick brown fox jumps over the lazy dog. lkjh asdf qwer zxcv uiop hjkl — ' +
      'const token = "lkabcdefghijklmnopqrstuv"; base64: bGtxenJtdGJ4d3BldmhjYWRuYWJjZGVm==';
    expect(recogniseAppPasswords(prose)).toEqual([]);
  });

  it('R9: text that may hold an app password: with its checksum anywhere, or in its shape with a typo or other groups', () => {
    const letters = generateAppPassword(seededBytes(7)).reveal();
    const typo = `${letters.slice(0, 10)}${letters[10] === 'a' ? 'b' : 'a'}${letters.slice(11)}`;
    for (const text of [
      letters,
      letters.toUpperCase(),
      `${letters}@contoso.test`,
      typo,
      typo.match(/.{1,3}/g)!.join('-'),
    ])
      expect({ text, may: mayHoldAppPassword(text) }).toEqual({ text, may: true });
    for (const text of [
      'alice@contoso.test',
      'lkabc@contoso.test',
      `${typo}@contoso.test`,
      'walkingdeadfanclub@x.io',
    ])
      expect({ text, may: mayHoldAppPassword(text) }).toEqual({ text, may: false });
  });
});
