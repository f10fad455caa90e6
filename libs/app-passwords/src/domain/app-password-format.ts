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
export const recogniseAppPasswords = (text: string): string[] => [
  ...new Set(Array.from(checkedCandidates(text.normalize('NFKC')), ({ password }) => password)),
];

/**
 * The shape matches whose checksum holds, in NFKC-normalised `text`. A shape match whose checksum
 * fails may have swallowed the start of a real one (`lkab cdef ` + a password reads as one
 * candidate of six groups), so the scan resumes one character after its start, not after its end.
 * Each attempt reads at most one candidate's length, so the cost stays linear in the text.
 */
function* checkedCandidates(text: string): Generator<{ password: string; start: number; end: number }> {
  const candidates = new RegExp(CANDIDATE.source, CANDIDATE.flags);
  for (let match = candidates.exec(text); match !== null; match = candidates.exec(text)) {
    const password = normaliseAppPassword(match[0]);
    if (isWellFormedAppPassword(password))
      yield { password, start: match.index, end: match.index + match[0].length };
    else candidates.lastIndex = match.index + 1;
  }
}

/**
 * Separators a person may put between the groups of a password they retype: those normalising
 * removes, and also `_`, `.`, `,` and `·`. At most MAX_GAP of them in a row.
 */
const LOOSE_SEPARATOR = /^[\s\-\u2010-\u2015\u2212_.,\u00b7]$/u;
const MAX_GAP = 3;
/** Letters after `lk` that make text suspect: two fewer than an app password has. */
const SUSPECT_AFTER_PREFIX = APP_PASSWORD_LENGTH - APP_PASSWORD_PREFIX.length - 2;
/**
 * After a separator, a piece longer than this is a word, not a group of an app password (grouped by
 * four, or by eight at most): `volker.schwarzenberger` holds `lk` and 17 letters, but is a name.
 */
const MAX_PIECE = 2 * GROUP_SIZE;
/** A suspect span is followed until it covers as many letters as an app password has after `lk`. */
const FOLLOW_AFTER_PREFIX = APP_PASSWORD_LENGTH - APP_PASSWORD_PREFIX.length;

const isLetter = (code: number): boolean => (code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a;

/**
 * R9: the spans of NFKC-normalised `text` that may be an app password, typed whole or mangled:
 *
 * - one whose checksum holds, anywhere (recogniseAppPasswords);
 * - the whole text in an app password's shape once normalised (a typo, other grouping);
 * - `lk` (any case) followed by at least SUSPECT_AFTER_PREFIX letters: run together, as in a password
 *   glued to a username (`alice` + password), or in pieces of at most MAX_PIECE letters parted by
 *   white space, dashes, `_`, `.` or `,` (a password retyped in groups, one letter missing, one too
 *   many or one wrong). Anything else (`@`, `\`, a digit…) ends the span.
 *
 * A username holds that only if it has `lk` and then 20 letters in one word, or in short pieces, before
 * its `@`: `walker.texas@…`, `elke.von.der.heyden-breckenfeld@…` and
 * `maximilian.vonhabsburglothringen@…` do not; five short given names after a Volker would.
 */
const suspectSpans = (text: string): { start: number; end: number }[] => {
  const spans: { start: number; end: number }[] = [];
  for (const { start, end } of checkedCandidates(text)) spans.push({ start, end });
  if (WELL_FORMED.test(normaliseAppPassword(text))) spans.push({ start: 0, end: text.length });
  // Where each run of letters ends, read once, so each `lk` is followed in constant time.
  const runEnd = new Int32Array(text.length + 1);
  runEnd[text.length] = text.length;
  for (let i = text.length - 1; i >= 0; i--) runEnd[i] = isLetter(text.charCodeAt(i)) ? runEnd[i + 1] : i;
  for (let i = 0; i + 1 < text.length; i++) {
    if ((text.charCodeAt(i) | 0x20) !== 0x6c || (text.charCodeAt(i + 1) | 0x20) !== 0x6b) continue;
    let end = runEnd[i + 2];
    let letters = end - (i + 2);
    while (letters < FOLLOW_AFTER_PREFIX) {
      let gap = 0;
      while (gap <= MAX_GAP && end + gap < text.length && LOOSE_SEPARATOR.test(text[end + gap])) gap++;
      if (gap === 0 || gap > MAX_GAP) break;
      const piece = runEnd[end + gap] - (end + gap);
      if (piece === 0 || piece > MAX_PIECE) break;
      letters += piece;
      end += gap + piece;
    }
    if (letters >= SUSPECT_AFTER_PREFIX) {
      spans.push({ start: i, end });
      i = end - 1;
    }
  }
  return spans;
};

/**
 * R9: could this text, typed where something else belongs (the username of a sign-in), be an app
 * password, whole or mistyped? Text that must never be recorded as typed (see suspectSpans).
 */
export const mayHoldAppPassword = (text: string): boolean => suspectSpans(text.normalize('NFKC')).length > 0;

/**
 * B12, R9: `text` (NFKC-normalised) with everything that may be an app password replaced, for text
 * kept beside a report or an attempt (a source, a User-Agent).
 */
export const redactAppPasswords = (text: string, replacement = '[app password]'): string => {
  const normalised = text.normalize('NFKC');
  const spans = suspectSpans(normalised).sort((a, b) => a.start - b.start);
  let redacted = '';
  let from = 0;
  for (const { start, end } of spans) {
    // Spans overlap (a password both checksummed and in the suspect shape): one replacement each.
    if (start >= from) redacted += normalised.slice(from, start) + replacement;
    from = Math.max(from, end);
  }
  return redacted + normalised.slice(from);
};
