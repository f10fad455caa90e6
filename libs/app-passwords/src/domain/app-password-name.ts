import { ValidationError } from './domain-error';

/** R6: names say which device uses the app password. */
export const MAX_APP_PASSWORD_NAME_LENGTH = 64;

/**
 * Control (Cc), format (Cf: zero-width and bidi overrides), lone surrogates (Cs), private-use (Co),
 * unassigned (Cn) and line/paragraph separators: characters that make two names look alike or a list
 * render wrongly.
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/**
 * R6: the name as stored: trimmed, inner runs of white space collapsed to one space. Throws a
 * ValidationError naming R6 when it is empty, longer than 64 characters (code points) or holds a
 * forbidden character.
 */
export const validateAppPasswordName = (name: unknown): string => {
  if (typeof name !== 'string' || name.trim().length === 0) {
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
 * letters), case-folded (upper then lower, so ß and SS meet), white space collapsed. `Laptop`, `LAPTOP`, `Ｌａｐｔｏｐ` and ` laptop ` collide.
 */
export const appPasswordNameKey = (name: string): string =>
  name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim().replace(/\s+/gu, ' ');
