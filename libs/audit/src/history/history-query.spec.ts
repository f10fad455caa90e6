import { historyFilterSchema, historyPageSchema, toHistoryFilter } from './history-filter';
import { countHistory, needsScanBudget, scanBound, selectHistory } from './history-query';

const TENANT = '11111111-1111-4111-8111-111111111111';
const USER = '22222222-2222-4222-8222-222222222222';

describe('history query building', () => {
  it('always selects the tenant and the high-water mark first, with nothing but placeholders for values', () => {
    const sql = selectHistory(TENANT, {}, { after: 0n, limit: 100 });
    expect(sql.text).toMatch(/WHERE tenant_id = \$1\s+AND seq > \$2\s+AND transaction_id < pg_snapshot_xmin/);
    expect(sql.text).toMatch(/ORDER BY seq\s+LIMIT \$3$/);
    expect(sql.values).toEqual([TENANT, '0', 100]);
  });

  it('every filter becomes a parameter; hostile values never reach the SQL text', () => {
    const hostile = "user-x'; DROP TABLE events; --";
    const sql = selectHistory(
      TENANT,
      {
        userId: USER,
        streamId: hostile,
        types: ['A', 'B'],
        from: new Date('2025-01-01T00:00:00Z'),
        to: new Date('2025-02-01T00:00:00Z'),
      },
      { after: 42n, limit: 10, upTo: 99n },
    );
    expect(sql.text).not.toContain('DROP');
    expect(sql.text).not.toContain(USER);
    expect(sql.text).toContain('stream_id = $3');
    expect(sql.text).toContain("(stream_id = 'user-' || $4::text OR data ->> 'userId' = $4::text)");
    expect(sql.text).toContain('type = ANY($5::text[])');
    expect(sql.text).toContain('occurred_at >= $6');
    expect(sql.text).toContain('occurred_at < $7');
    expect(sql.text).toContain('seq <= $8');
    expect(sql.values).toEqual([
      TENANT,
      '42',
      hostile,
      USER,
      ['A', 'B'],
      '2025-01-01T00:00:00.000Z',
      '2025-02-01T00:00:00.000Z',
      '99',
      10,
    ]);
  });

  it('counts with the same conditions as it selects', () => {
    const filter = { types: ['UserDisabled'] };
    const count = countHistory(TENANT, filter);
    const select = selectHistory(TENANT, filter, { after: 0n, limit: 1 });
    expect(count.text.split('WHERE')[1]).toBe(select.text.split('WHERE')[1].split('\nORDER BY')[0]);
  });

  it('the scan bound is the budget-th row of the tenant after the position', () => {
    expect(scanBound(TENANT, 7n, 50_000)).toEqual({
      text: expect.stringMatching(/tenant_id = \$1[\s\S]*seq > \$2[\s\S]*OFFSET \$3\s+LIMIT 1/),
      values: [TENANT, '7', 49_999],
    });
  });

  it('a scan budget applies to the filters no index serves, not to a stream', () => {
    expect(needsScanBudget({})).toBe(false);
    expect(needsScanBudget({ streamId: 's' })).toBe(false);
    expect(needsScanBudget({ streamId: 's', types: ['A'] })).toBe(false);
    expect(needsScanBudget({ userId: USER })).toBe(true);
    expect(needsScanBudget({ types: ['A'] })).toBe(true);
    expect(needsScanBudget({ to: new Date() })).toBe(true);
  });
});

describe('history filters (query parameters and CLI options)', () => {
  const parse = (input: unknown) => historyPageSchema.safeParse(input);

  it('parses every filter, types repeated or comma-separated, deduplicated and sorted', () => {
    const result = historyPageSchema.parse({
      userId: USER.toUpperCase(),
      streamId: 'user-' + USER,
      type: ['UserDisabled,AppPasswordCreated', 'UserDisabled'],
      from: '2025-03-03T14:00:00+01:00',
      to: '2025-03-03T15:00:00Z',
      limit: '1000',
      cursor: 'abc',
    });
    expect(toHistoryFilter(result)).toEqual({
      userId: USER,
      streamId: 'user-' + USER,
      types: ['AppPasswordCreated', 'UserDisabled'],
      from: new Date('2025-03-03T13:00:00Z'),
      to: new Date('2025-03-03T15:00:00Z'),
    });
    expect(result.limit).toBe(1000);
  });

  it.each([
    ['a limit above 1,000', { limit: '1001' }],
    ['a huge limit', { limit: '99999999999999999999' }],
    ['a zero limit', { limit: '0' }],
    ['a negative limit', { limit: '-1' }],
    ['a fractional limit', { limit: '1.5' }],
    ['a repeated limit', { limit: ['1', '2'] }],
    ['a date without offset', { from: '2025-03-03T14:00:00' }],
    ['a date that is not one', { from: '2025-13-45T25:61:00Z' }],
    ['an empty date', { to: '' }],
    ['from not before to', { from: '2025-03-03T15:00:00Z', to: '2025-03-03T15:00:00Z' }],
    ['a user id that is not a UUID', { userId: "' OR 1=1 --" }],
    ['a type with SQL in it', { type: "A'; DROP TABLE events; --" }],
    ['an empty type', { type: '' }],
    ['a stream id with a space or control character', { streamId: 'user-1\n' }],
    ['a stream id too long', { streamId: 'x'.repeat(201) }],
    ['an unknown parameter', { tenantId: USER }],
    ['a cursor too long', { cursor: 'a'.repeat(257) }],
  ])('refuses %s', (_name, input) => {
    expect(parse(input).success).toBe(false);
  });

  it('export filters take no page parameters', () => {
    expect(historyFilterSchema.safeParse({ limit: '10' }).success).toBe(false);
    expect(historyFilterSchema.safeParse({ cursor: 'x' }).success).toBe(false);
    expect(historyFilterSchema.safeParse({ type: 'UserDisabled' }).success).toBe(true);
  });
});
