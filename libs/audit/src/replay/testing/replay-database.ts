/**
 * The replay suites rebuild, swap and truncate whole read models: beside other suites' rows (and
 * their deliberately tampered events) they would rebuild everything those left behind. They run
 * in a database of their own, `<test database>_replay` (or POSTGRES_DB_REPLAY), which
 * scripts/test.sh creates; by hand: `POSTGRES_DB=latchkey_test_replay bash stack/stack.sh up postgres`.
 * Call it first in the suite's `describe`: the suite's configuration, read while it is collected
 * and in its hooks, then names that database; the shared one is restored after the suite.
 */
export function inReplayDatabase(): string {
  const shared = process.env.POSTGRES_DB;
  const own = process.env.POSTGRES_DB_REPLAY ?? `${shared ?? 'latchkey_test'}_replay`;
  process.env.POSTGRES_DB = own;
  afterAll(() => {
    process.env.POSTGRES_DB = shared;
  });
  return own;
}
