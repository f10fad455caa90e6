import { crc32 } from './crc32';

/**
 * B12: the self-checking form of an app password, 24 lower-case letters shown in six groups of four:
 *
 *     lkqz rmtb xwpe vhca dngs ufkj
 *     └┬┘└──── 16 random ────┘└ 6 ┘
 *   prefix                   checksum
 *
 * - `lk` marks a Latchkey app password, so a scanner (ours, or a code host's) finds it in any text.
 * - 16 letters drawn uniformly from 26: 16 × log2 26 ≈ 75.21 bits of entropy (R2, ≥ 75).
 * - 6 checksum letters: CRC-32 of prefix + random letters, reduced mod 26^6 (≈ 2^28.2) and written in
 *   base 26. Text that merely looks like an app password passes with probability at most 14 / 2^32
 *   (≈ 3.3 × 10⁻⁹); random letters must also begin with `lk` (1 / 676).
 * Letters only, no digits or symbols: easy to type into an old client, no 0/O or 1/l confusion.
 */
export const APP_PASSWORD_PREFIX = 'lk';
export const RANDOM_LETTERS = 16;
export const CHECKSUM_LETTERS = 6;
export const APP_PASSWORD_LENGTH = APP_PASSWORD_PREFIX.length + RANDOM_LETTERS + CHECKSUM_LETTERS;
export const GROUP_SIZE = 4;
export const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
/** log2(26^16): the entropy of the random part, in bits. */
export const APP_PASSWORD_ENTROPY_BITS = RANDOM_LETTERS * Math.log2(ALPHABET.length);

const CHECKSUM_MODULUS = ALPHABET.length ** CHECKSUM_LETTERS;

/** The checksum letters for a prefix + random body. */
export const checksumLetters = (body: string): string => {
  let value = crc32(body) % CHECKSUM_MODULUS;
  let letters = '';
  for (let i = 0; i < CHECKSUM_LETTERS; i++) {
    letters = ALPHABET[value % ALPHABET.length] + letters;
    value = Math.floor(value / ALPHABET.length);
  }
  return letters;
};

const WELL_FORMED = new RegExp(
  `^${APP_PASSWORD_PREFIX}[a-z]{${APP_PASSWORD_LENGTH - APP_PASSWORD_PREFIX.length}}$`,
);

/** Is this normalised string an app password by form and checksum? (Not: is it a valid one.) */
export const isWellFormedAppPassword = (normalised: string): boolean => {
  if (!WELL_FORMED.test(normalised)) return false;
  const split = APP_PASSWORD_LENGTH - CHECKSUM_LETTERS;
  return checksumLetters(normalised.slice(0, split)) === normalised.slice(split);
};

/** Separators a person or a mail client may put between groups: white space and dashes of any kind. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212]/gu;

/**
 * What is hashed at creation and at verification: compatibility forms folded (full-width letters
 * typed through an IME), separators removed, lower-cased. `LKQZ-RMTB-…` and `lkqz rmtb …` are equal.
 */
export const normaliseAppPassword = (input: string): string =>
  input.normalize('NFKC').replace(SEPARATORS, '').toLowerCase();

/** The form shown once to the user: six groups of four letters. */
export const displayAppPassword = (normalised: string): string =>
  normalised.match(new RegExp(`.{1,${GROUP_SIZE}}`, 'g'))?.join(' ') ?? '';

const GROUP = `[a-z]{${GROUP_SIZE}}`;
const GAP = `[\\s\\-\\u2010-\\u2015\\u2212]{0,2}`;
const CANDIDATE = new RegExp(
  `(?<![a-z0-9])${APP_PASSWORD_PREFIX}[a-z]{${GROUP_SIZE - APP_PASSWORD_PREFIX.length}}` +
    `(?:${GAP}${GROUP}){${APP_PASSWORD_LENGTH / GROUP_SIZE - 1}}(?![a-z0-9])`,
  'giu',
);

/**
 * B12: the app passwords found in arbitrary text (a paste, a commit, a log), normalised and
 * de-duplicated, in order of appearance. Case-insensitive; groups may be run together or separated by
 * up to two spaces or dashes (a line break included). Only candidates whose checksum holds are returned.
 */
export const recogniseAppPasswords = (text: string): string[] => {
  const found = new Set<string>();
  for (const match of text.normalize('NFKC').matchAll(CANDIDATE)) {
    const candidate = normaliseAppPassword(match[0]);
    if (isWellFormedAppPassword(candidate)) found.add(candidate);
  }
  return [...found];
};

/**
 * R9: could this text, typed where something else belongs (the username of a sign-in), be an app
 * password? One with its checksum anywhere in it, or the whole text in an app password's shape once
 * normalised as a password is (a typo, other grouping): text that must never be recorded as typed.
 */
export const mayHoldAppPassword = (text: string): boolean =>
  WELL_FORMED.test(normaliseAppPassword(text)) || recogniseAppPasswords(text).length > 0;
