import { z } from 'zod';

// The instants both ISO 8601's four-digit years and PostgreSQL's timestamptz text take: an offset can
// carry "0000-01-01T00:00+01:00" into year -1, which Date prints as "-000001-…" and PostgreSQL refuses.
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An ISO 8601 instant with its offset (`Z` or `±hh:mm`), from year 1 to year 9999 in UTC, as a Date.
 * Anything else is a 400, never a database error.
 */
export const instantSchema = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), 'must be a real instant')
  .refine(
    (date) => date.getTime() >= FIRST_INSTANT && date.getTime() <= LAST_INSTANT,
    'must be between the years 1 and 9999 (UTC)',
  );

/**
 * Text for a person to read (a reason, a note): no control characters but tabs and line breaks, no
 * format characters (bidirectional overrides reorder what an auditor reads) and no unpaired
 * surrogate. PostgreSQL refuses NUL in text and JSON, and an unpaired surrogate in jsonb.
 */
export const plainTextSchema = (max: number) =>
  z
    .string()
    .max(max)
    .refine(
      (value) => !/[^\P{Cc}\t\n\r]|\p{Cf}|\p{Cs}/u.test(value),
      'must not contain control or format characters',
    );

/** Text a machine reads (a DN, an identifier): no control character, no unpaired surrogate. */
export const machineTextSchema = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !/\p{Cc}|\p{Cs}/u.test(value), 'must not contain raw control characters');
