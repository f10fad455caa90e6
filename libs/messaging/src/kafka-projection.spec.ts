import { describeSetAside, type DeadLetter } from './kafka-projection';

const letter = (version: number): DeadLetter => ({
  streamId: 'sign-ins-t-0',
  version,
  eventId: `event-${version}`,
  error: 'Error: not a readable sign-in record',
});

describe('describeSetAside: the log of a chunk’s dead letters', () => {
  it('names each of a few events set aside', () => {
    expect(describeSetAside([letter(1), letter(2)])).toEqual([
      'set aside event event-1 (sign-ins-t-0 v1) in projection_dead_letters: Error: not a readable sign-in record',
      'set aside event event-2 (sign-ins-t-0 v2) in projection_dead_letters: Error: not a readable sign-in record',
    ]);
    expect(describeSetAside([])).toEqual([]);
  });

  it('names the first three of many and counts the rest in one line, not one line per event', () => {
    const lines = describeSetAside(Array.from({ length: 1_000 }, (_, i) => letter(i + 1)));
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('event-3 (sign-ins-t-0 v3)');
    expect(lines[3]).toBe('set aside 997 more events of this batch in projection_dead_letters');
  });
});
