import { createHash } from 'node:crypto';
import { QueryFailedError, type QueryRunner } from 'typeorm';

/** The part of node-postgres' client that runs a named statement (the repository has no @types/pg). */
interface NamedStatementClient {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `text` on the runner's own connection as a named prepared statement: PostgreSQL parses and
 * plans it on the connection's first call and only executes it after that. Worth it for statements
 * run hundreds of times a second on a connection the caller holds: the sign-in append (five CTEs)
 * spent as long being planned as being executed. The name is the text's digest, so one name never
 * stands for two statements, and a connection holds one plan per distinct text (callers pass a
 * bounded set of texts, never values spliced into SQL). Errors are TypeORM's QueryFailedError, as
 * `runner.query` throws them.
 */
export async function queryPrepared<Row>(
  runner: QueryRunner,
  text: string,
  values: readonly unknown[],
): Promise<Row[]> {
  const client = (await runner.connect()) as NamedStatementClient;
  const name = `latchkey_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;
  try {
    return (await client.query({ name, text, values })).rows as Row[];
  } catch (error) {
    throw new QueryFailedError(text, [...values], error as Error);
  }
}
