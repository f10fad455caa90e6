/**
 * The replay suites rebuild, swap and truncate whole read models: beside other suites' rows (and
 * their deliberately tampered events) they would rebuild everything those left behind. They run
 * in a database of their own, `<test database>_replay` (or POSTGRES_DB_REPLAY), which
 * scripts/test.sh creates; by hand: `POSTGRES_DB=latchkey_test_replay bash stack/stack.sh up postgres`.
 * Call it first in the suite's `describe`, and its result in `afterAll`: the suite's configuration,
 * read while it is collected and in its hooks, then names that database; the returned function
 * puts the shared one back for the suites after it (one Jest process runs them all in band).
 */
export function inReplayDatabase(): () => void {
  const shared = process.env.POSTGRES_DB;
  process.env.POSTGRES_DB = process.env.POSTGRES_DB_REPLAY ?? `${shared ?? 'latchkey_test'}_replay`;
  return () => {
    process.env.POSTGRES_DB = shared;
  };
}
