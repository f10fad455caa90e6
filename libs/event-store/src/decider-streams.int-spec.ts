import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { integrationConfig } from '../../../test/integration-config';
import { DeciderStreams, type StreamDecider } from './decider-streams';
import { PostgresEventStore } from './postgres-event-store';

type Added = { type: 'Added'; data: { n: number } };
/** A tally whose evolve changes the state in place, as the directory sync's does. */
const tally: StreamDecider<{ add: number }, { total: number; seen: number }, Added> = {
  decide: (command) => [{ type: 'Added', data: { n: command.add } }],
  evolve: (state, event) => {
    state.total += event.data.n;
    state.seen += 1;
    return state;
  },
  initialState: () => ({ total: 0, seen: 0 }),
};

describe('DeciderStreams with cached state (real PostgreSQL)', () => {
  let db: DataSource;

  beforeAll(async () => {
    await migrate(integrationConfig());
    db = await new DataSource(dataSourceOptions(integrationConfig())).initialize();
  });
  afterAll(() => db?.destroy());

  it('two processes appending in turn each see every event, reading only what is new', async () => {
    const [a, b] = [
      new DeciderStreams(new PostgresEventStore(db)),
      new DeciderStreams(new PostgresEventStore(db)),
    ];
    const streamId = `tally-${randomUUID()}`;
    const run = (streams: DeciderStreams, add: number) =>
      streams.execute({
        streamId,
        streamType: 'tally',
        decider: tally,
        schemaVersionOf: () => 1,
        command: { add },
        context: { tenantId: null, actor: { kind: 'system' } },
        occurredAt: new Date(),
        cacheState: true,
      });
    await run(a, 1);
    await run(b, 10); // a's cache is now one event behind
    const third = await run(a, 100); // reads b's event after its snapshot, appends at version 3
    expect(third).toMatchObject({ version: 3, state: { total: 111, seen: 3 } });
    expect(await b.load(streamId, tally, true)).toEqual({ version: 3, state: { total: 111, seen: 3 } });
    expect(await new DeciderStreams(new PostgresEventStore(db)).load(streamId, tally)).toEqual({
      version: 3,
      state: { total: 111, seen: 3 },
    });
  });
});
