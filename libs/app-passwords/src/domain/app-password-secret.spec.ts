import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import {
  APP_PASSWORD_ENTROPY_BITS,
  APP_PASSWORD_LENGTH,
  checksumLetters,
  isWellFormedAppPassword,
  normaliseAppPassword,
  mayHoldAppPassword,
  recogniseAppPasswords,
  redactAppPasswords,
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
    for (const text of ['alice@contoso.test', 'lkabc@contoso.test', 'walkingdeadfanclub@x.io'])
      expect({ text, may: mayHoldAppPassword(text) }).toEqual({ text, may: false });
  });

  it('B12: a password starting inside a look-alike whose checksum failed is still found', () => {
    for (const before of ['lkxx ', 'lkab cdef ', 'LKAB-CDEF-', 'lkab cdef ghij ', 'lkqz lkqz '])
      for (const shown of [letters, secret.display()])
        expect({ before, found: recogniseAppPasswords(`${before}${shown}`) }).toEqual({
          before,
          found: [letters],
        });
    const other = generateAppPassword(seededBytes(5)).reveal();
    expect(recogniseAppPasswords(`${letters.slice(0, 8)} ${other} ${letters}`)).toEqual([other, letters]);
  });

  it('B12: a hostile 12 kB text is scanned well within 50 ms', () => {
    const hostile = [
      'lkab '.repeat(2458),
      'lkab-'.repeat(2458),
      'lkablkab'.repeat(1536),
      'lk  '.repeat(3072),
      ('lk' + 'a'.repeat(22) + ' ').repeat(491),
      `${'lkaa  '.repeat(2047)}${letters}`,
    ].map((text) => text.slice(0, 12_288));
    for (const text of hostile) recogniseAppPasswords(text); // warm up
    for (const text of hostile) {
      const startedAt = performance.now();
      recogniseAppPasswords(text);
      mayHoldAppPassword(text);
      const tookMs = performance.now() - startedAt;
      expect({ text: text.slice(0, 12), fast: tookMs < 50 }).toEqual({ text: text.slice(0, 12), fast: true });
    }
  });

  it('B12: redacting replaces each app password, whole or mistyped, once, and keeps the text around it', () => {
    const typo = `${letters.slice(0, 9)}${letters[9] === 'a' ? 'b' : 'a'}${letters.slice(10)}`;
    expect(redactAppPasswords(`${secret.display()} and https://paste.example/${typo}?raw=1`)).toBe(
      '[app password] and https://paste.example/[app password]?raw=1',
    );
    expect(redactAppPasswords(`scanner/1.0 (alice${letters.toUpperCase()}; x)`)).toBe(
      'scanner/1.0 (alice[app password]; x)',
    );
    expect(redactAppPasswords('https://paste.example/walker.texas?x=1')).toBe(
      'https://paste.example/walker.texas?x=1',
    );
  });

  describe('R9: mayHoldAppPassword errs on the side of the secret', () => {
    const letters = generateAppPassword(seededBytes(7)).reveal();
    const typo = `${letters.slice(0, 10)}${letters[10] === 'a' ? 'b' : 'a'}${letters.slice(11)}`;
    const groups = (text: string, by = 4) => text.match(new RegExp(`.{1,${by}}`, 'g'))!;

    it.each([
      ['one letter missing', letters.slice(0, 12) + letters.slice(13)],
      ['one letter missing, grouped', groups(letters.slice(0, 23)).join(' ')],
      ['one letter too many', letters.slice(0, 12) + 'q' + letters.slice(12)],
      ['a typo with text around it', `my password is ${typo} thanks`],
      ['a typo before a domain', `${typo}@contoso.test`],
      ['a typo, grouped in eights', groups(typo, 8).join(' ')],
      ['underscores between groups', groups(letters).join('_')],
      ['dots between groups', groups(letters).join('.')],
      ['dots between groups of a typo', `${groups(typo).join('.')}@contoso.test`],
      ['glued to a username', `alice${letters}`],
      ['glued to a username, typo', `alice${typo}`],
      ['glued to a UPN', `alice@contoso.test${letters}`],
      ['after a username and a space', `alice@contoso.test ${groups(typo).join(' ')}`],
      ['a domain user', `CONTOSO\\${groups(typo).join('-')}`],
      ['full-width', [...typo].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')],
    ])('R9: %s', (_, text) => {
      expect(mayHoldAppPassword(text)).toBe(true);
    });

    it.each([
      'alice@contoso.com',
      'firstname.lastname@sub.domain.example',
      'maximilian.vonhabsburglothringen@contoso.com',
      'volker.schwarzenberger-hohenstein@contoso.com',
      'elke.von.der.heyden-breckenfeld@contoso.com',
      'heinrich.falkenhausen-schwarzenberg@contoso.com',
      'silke.mueller-luedenscheidt@contoso.de',
      'folkert.van.der.walkenburgh@contoso.nl',
      'wilkinson-hetherington.alexander@contoso.co.uk',
      'milkovich_aleksandra_petrovna@contoso.com',
      'alkhatib.mohammed.abdulrahman@contoso.ae',
      'dalkeith.anne.mary.jo.smith@contoso.com',
      'walker.texas@rangers.example',
      'walkingdeadfanclub@x.io',
      'lkabc@contoso.test',
      'CONTOSO\\volker.schwarzenberger',
    ])('R9: a real username is recorded as typed: %s', (text) => {
      expect(mayHoldAppPassword(text)).toBe(false);
    });
  });
});
