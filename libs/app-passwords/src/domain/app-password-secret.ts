import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import {
  ALPHABET,
  APP_PASSWORD_PREFIX,
  checksumLetters,
  displayAppPassword,
  RANDOM_LETTERS,
} from './app-password-format';

/** A source of uniformly random bytes; node:crypto's CSPRNG unless a test injects its own. */
export type RandomBytes = (size: number) => Uint8Array;

/** The largest multiple of 26 that fits a byte: bytes at or above it are rejected, so no letter is favoured. */
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length); // 234
const MAX_DRAWS = 64;

const REDACTED = '[app password]';

/**
 * A freshly generated app password (R2: generated, never chosen). It prints as `[app password]` in
 * logs, JSON and `util.inspect`; the letters come out only through `reveal()` (for hashing) and
 * `display()` (for the one response that shows it).
 */
export class AppPasswordSecret {
  readonly #normalised: string;

  private constructor(normalised: string) {
    this.#normalised = normalised;
  }

  /** Builds the full form (prefix, random letters, checksum) from 16 random letters. */
  static fromRandomLetters(randomLetters: string): AppPasswordSecret {
    if (!new RegExp(`^[a-z]{${RANDOM_LETTERS}}$`).test(randomLetters)) {
      throw new RangeError(`An app password needs exactly ${RANDOM_LETTERS} random lower-case letters.`);
    }
    const body = APP_PASSWORD_PREFIX + randomLetters;
    return new AppPasswordSecret(body + checksumLetters(body));
  }

  /** The normalised letters, to be hashed. */
  reveal(): string {
    return this.#normalised;
  }

  /** Grouped for reading and typing: `lkqz rmtb xwpe vhca dngs ufkj`. */
  display(): string {
    return displayAppPassword(this.#normalised);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/** Uniform letters from random bytes by rejection sampling (bytes ≥ 234 are drawn again). */
export const randomLetters = (count: number, randomBytes: RandomBytes): string => {
  let letters = '';
  for (let draw = 0; draw < MAX_DRAWS && letters.length < count; draw++) {
    for (const byte of randomBytes(count * 2)) {
      if (byte < UNBIASED_LIMIT) letters += ALPHABET[byte % ALPHABET.length];
      if (letters.length === count) break;
    }
  }
  if (letters.length < count) throw new Error('The random source returned too few usable bytes.');
  return letters;
};

/** R2/B12: a new app password from a CSPRNG (or the injected source, for tests). */
export const generateAppPassword = (randomBytes: RandomBytes = cryptoRandomBytes): AppPasswordSecret =>
  AppPasswordSecret.fromRandomLetters(randomLetters(RANDOM_LETTERS, randomBytes));
