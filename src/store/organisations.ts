import type { Executor } from './database.js';
import type { Organisation } from './schema.js';

export async function insertOrganisation(db: Executor, org: Organisation): Promise<void> {
  await db.insertInto('organisations').values(org).execute();
}

export async function findOrganisation(db: Executor, id: string): Promise<Organisation | undefined> {
  return db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listOrganisations(db: Executor): Promise<Organisation[]> {
  return db.selectFrom('organisations').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** The organisation and every organisation below it, at any depth. */
export async function subtreeIds(db: Executor, rootId: string): Promise<string[]> {
  const rows = await db
    .withRecursive('subtree(id)', (qb) =>
      qb
        .selectFrom('organisations')
        .select('id')
        .where('id', '=', rootId)
        .unionAll((q) =>
          q.selectFrom('organisations as o').innerJoin('subtree', 'subtree.id', 'o.parent_id').select('o.id'),
        ),
    )
    .selectFrom('subtree')
    .select('id')
    .execute();
  return rows.map((r) => r.id);
}
