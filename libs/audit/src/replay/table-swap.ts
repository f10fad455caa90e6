import type { Sql } from './batch-projection';

/**
 * Fresh copies of live tables in a schema of their own, and the swap that puts them in place.
 *
 * The copies are made with LIKE (columns, defaults, CHECK and NOT NULL constraints) but without their
 * indexes: primary keys at once (the batch statements need them for ON CONFLICT and joins), every
 * other index, unique constraint, foreign key and trigger after the bulk load, which builds an index
 * once instead of maintaining it row by row. They are recreated from the live definitions under the
 * live names, so that once swapped in the tables are the ones the migrations made (a later migration
 * that drops `credentials_verifier` finds it). Grants are not copied: the application's one role owns
 * every table, and it is the role that rebuilds.
 */
export class TableCopies {
  private definitions?: Definitions;

  constructor(
    private readonly sql: Sql,
    readonly schema: string,
    /** In foreign-key order: a referenced table before its referrers. */
    readonly tables: readonly string[],
  ) {}

  /** Refuses when a table outside the set refers to one inside it: swapping would cut that key. */
  async create(): Promise<void> {
    const referrers: { referrer: string; referenced: string }[] = await this.sql.query(
      `SELECT c.relname AS referrer, r.relname AS referenced
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
       WHERE k.contype = 'f' AND rn.nspname = 'public' AND r.relname = ANY($1)
         AND NOT (cn.nspname = 'public' AND c.relname = ANY($1))`,
      [this.tables],
    );
    if (referrers.length > 0) {
      const named = referrers.map((r) => `${r.referrer} → ${r.referenced}`).join(', ');
      throw new Error(`cannot swap these tables alone: ${named} would point at the replaced table`);
    }
    this.definitions = await this.readDefinitions();
    await this.sql.query(`CREATE SCHEMA ${this.schema}`);
    for (const table of this.tables) {
      await this.sql.query(
        `CREATE TABLE ${this.schema}.${table} (LIKE public.${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS
           INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS)`,
      );
    }
    for (const constraint of this.definitions.constraints.filter((c) => c.type === 'p')) {
      await this.addConstraint(constraint);
    }
  }

  /** Indexes, unique constraints, foreign keys and triggers, then statistics for the planner. */
  async complete(): Promise<void> {
    const { constraints, indexes, triggers } = this.definitions!;
    for (const constraint of constraints.filter((c) => c.type === 'u' || c.type === 'x')) {
      await this.addConstraint(constraint);
    }
    for (const index of indexes) await this.sql.query(this.retarget(index.definition, index.table));
    for (const constraint of constraints.filter((c) => c.type === 'f')) await this.addConstraint(constraint);
    for (const trigger of triggers) await this.sql.query(this.retarget(trigger.definition, trigger.table));
    for (const table of this.tables) await this.sql.query(`ANALYZE ${this.schema}.${table}`);
  }

  /**
   * Inside the caller's transaction, which holds ACCESS EXCLUSIVE locks on the live tables: moves
   * them to `oldSchema` and the copies to public. A move keeps a table's indexes, constraints and
   * foreign keys (they follow the table, not its name).
   */
  async swapIn(oldSchema: string): Promise<void> {
    await this.sql.query(`CREATE SCHEMA ${oldSchema}`);
    for (const table of this.tables)
      await this.sql.query(`ALTER TABLE public.${table} SET SCHEMA ${oldSchema}`);
    for (const table of this.tables)
      await this.sql.query(`ALTER TABLE ${this.schema}.${table} SET SCHEMA public`);
    await this.sql.query(`DROP SCHEMA ${this.schema}`);
  }

  /** Drops a schema of replaced (or abandoned) tables, referrers first; anything else in it stops the drop. */
  async drop(schema: string): Promise<void> {
    for (const table of [...this.tables].reverse())
      await this.sql.query(`DROP TABLE IF EXISTS ${schema}.${table}`);
    await this.sql.query(`DROP SCHEMA IF EXISTS ${schema}`);
  }

  private async addConstraint(constraint: ConstraintDefinition): Promise<void> {
    // A foreign key to a table being rebuilt points at its copy; to any other table, at the live one.
    const definition = constraint.definition.replace(
      /REFERENCES (?:public\.)?(\w+)\(/,
      (_, table: string) => `REFERENCES ${this.tables.includes(table) ? this.schema : 'public'}.${table}(`,
    );
    await this.sql.query(
      `ALTER TABLE ${this.schema}.${constraint.table} ADD CONSTRAINT ${constraint.name} ${definition}`,
    );
  }

  /** `… ON public.<table> …` (as pg_get_indexdef and pg_get_triggerdef write it) → the copy. */
  private retarget(definition: string, table: string): string {
    const retargeted = definition.replace(
      new RegExp(`\\bON (?:public\\.)?${table}\\b`),
      `ON ${this.schema}.${table}`,
    );
    if (retargeted === definition) throw new Error(`cannot retarget to the copy: ${definition}`);
    return retargeted;
  }

  private async readDefinitions(): Promise<Definitions> {
    const constraints: ConstraintDefinition[] = await this.sql.query(
      `SELECT c.relname AS table, k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid) AS definition
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relname = ANY($1) AND k.contype IN ('p', 'u', 'x', 'f')
       ORDER BY array_position($1, c.relname::text), k.conname`,
      [this.tables],
    );
    const indexes: { table: string; definition: string }[] = await this.sql.query(
      `SELECT t.relname AS table, pg_get_indexdef(x.indexrelid) AS definition
       FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'public' AND t.relname = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
       ORDER BY array_position($1, t.relname::text)`,
      [this.tables],
    );
    const triggers: { table: string; definition: string }[] = await this.sql.query(
      `SELECT t.relname AS table, pg_get_triggerdef(g.oid) AS definition
       FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'public' AND t.relname = ANY($1) AND NOT g.tgisinternal`,
      [this.tables],
    );
    return { constraints, indexes, triggers };
  }
}

interface ConstraintDefinition {
  table: string;
  name: string;
  type: 'p' | 'u' | 'x' | 'f';
  definition: string;
}

interface Definitions {
  constraints: ConstraintDefinition[];
  indexes: { table: string; definition: string }[];
  triggers: { table: string; definition: string }[];
}
