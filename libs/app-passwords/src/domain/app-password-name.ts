import { ValidationError } from './domain-error';

/** R6: names say which device uses the app password. */
export const MAX_APP_PASSWORD_NAME_LENGTH = 64;

/**
 * Control (Cc), format (Cf: zero-width and bidi overrides), lone surrogates (Cs), private-use (Co),
 * unassigned (Cn) and line/paragraph separators: characters that make two names look alike or a list
 * render wrongly. So do the other characters Unicode says to render invisibly (Default_Ignorable:
 * the combining grapheme joiner, Hangul and Mongolian fillers and selectors) and the blank Braille
 * pattern: `Lap\u034Ftop` or `Laptop\u3164` would sit beside `Laptop` looking the same, and `\u3164`
 * alone would be a blank name. The emoji presentation selectors (U+FE0E, U+FE0F) are allowed, so
 * that `❤️ iPad` is a name; the key ignores them.
 */
const FORBIDDEN =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u2800]|(?![\uFE0E\uFE0F])\p{Default_Ignorable_Code_Point}/u;
const PRESENTATION_SELECTORS = /[\uFE0E\uFE0F]/gu;

/**
 * Latin, Greek and Cyrillic share letters that look the same (a/а/α, o/о/ο, p/р/ρ, H/Н/Η…). A word
 * that mixes two of them is what a homoglyph makes of another word: `Lаptop` with a Cyrillic `а`
 * would sit beside `Laptop` in the list, distinct to the uniqueness check (R6) yet indistinguishable
 * on screen. UTS #39's restriction levels refuse these mixes within an identifier; a name is several
 * words, and `Рабочий iPhone` (a Russian "work iPhone") is an honest name, so each word is checked on
 * its own. Other mixes (Latin with Han, kana or Hangul) are allowed, as UTS #39 allows them.
 */
const LOOKALIKE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Greek}/u, /\p{Script=Cyrillic}/u];
const WORDS = /[\p{L}\p{M}]+/gu;
const mixesLookalikeScripts = (name: string): boolean =>
  (name.match(WORDS) ?? []).some(
    (word) => LOOKALIKE_SCRIPTS.filter((script) => script.test(word)).length > 1,
  );

/**
 * R6: the name as stored: trimmed, inner runs of white space collapsed to one space. Throws a
 * ValidationError naming R6 when it is empty, longer than 64 characters (code points), holds a
 * forbidden character or mixes scripts whose letters look alike.
 */
export const validateAppPasswordName = (name: unknown): string => {
  if (typeof name !== 'string' || name.replace(PRESENTATION_SELECTORS, '').trim().length === 0) {
    throw new ValidationError(
      'R6.name-required',
      'R6',
      'An app password needs a name saying which device uses it.',
    );
  }
  if (FORBIDDEN.test(name)) {
    throw new ValidationError(
      'R6.name-invalid-characters',
      'R6',
      'An app password name cannot contain control, formatting or invisible characters.',
    );
  }
  // After NFKC, so that compatibility forms (full-width, mathematical letters) count as their script.
  if (mixesLookalikeScripts(name.normalize('NFKC'))) {
    throw new ValidationError(
      'R6.name-mixed-scripts',
      'R6',
      'A word of an app password name cannot mix Latin, Greek and Cyrillic letters: their look-alikes would let two names appear the same.',
    );
  }
  const cleaned = name.trim().replace(/\s+/gu, ' ');
  if ([...cleaned].length > MAX_APP_PASSWORD_NAME_LENGTH) {
    throw new ValidationError(
      'R6.name-too-long',
      'R6',
      `An app password name is at most ${MAX_APP_PASSWORD_NAME_LENGTH} characters.`,
    );
  }
  return cleaned;
};

/**
 * R6: the key two names collide on: NFKC (full-width and compatibility forms fold to their plain
 * letters), case-folded (upper then lower, so ß and SS meet), emoji presentation selectors dropped,
 * white space collapsed. `Laptop`, `LAPTOP`, `Ｌａｐｔｏｐ` and ` laptop ` collide; so do `❤️ iPad`
 * and `❤ iPad`.
 */
export const appPasswordNameKey = (name: string): string =>
  name
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .replace(PRESENTATION_SELECTORS, '')
    .trim()
    .replace(/\s+/gu, ' ');
