import { InvalidArgumentError } from 'commander';
import { instantArgument } from './audit-database';

describe('the CLI takes instants as the API does', () => {
  it('takes an instant with Z or an offset', () => {
    expect(instantArgument('2025-03-03T14:02:00+01:00').toISOString()).toBe('2025-03-03T13:02:00.000Z');
  });

  it('refuses a rolled-over date, a missing offset, and years PostgreSQL has no text for', () => {
    for (const value of [
      '2025-02-30T00:00:00Z',
      '2025-03-03T14:02:00',
      '0000-06-01T00:00:00Z',
      '0000-01-01T00:00:00+01:00',
      '9999-12-31T23:30:00-01:00',
    ])
      expect(() => instantArgument(value)).toThrow(InvalidArgumentError);
  });
});
