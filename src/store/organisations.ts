import { sql } from 'kysely';
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

export async function findOrganisations(db: Executor, ids: readonly string[]): Promise<Organisation[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('organisations').selectAll().where('id', 'in', ids).execute();
}

/** The organisation and every organisation below it, at any depth, as rows: one statement, no list of ids. */
export async function listSubtree(db: Executor, rootId: string): Promise<Organisation[]> {
  return db
    .withRecursive('subtree(id)', (qb) =>
      qb
        .selectFrom('organisations')
        .select('id')
        .where('id', '=', rootId)
        .unionAll((q) => q.selectFrom('organisations as o').innerJoin('subtree', 'subtree.id', 'o.parent_id').select('o.id')),
    )
    .selectFrom('organisations')
    .innerJoin('subtree', 'subtree.id', 'organisations.id')
    .selectAll('organisations')
    .execute();
}

/**
 * Whether this organisation's tree is every organisation: it is the only one without a parent.
 * Organisations are made under an existing parent and never moved, so every chain ends at a
 * root, and with one root every organisation is below it. A list over that tree needs no
 * organisation filter at all (the usual single-company or single-agency deployment's top admin).
 */
export async function isSoleRoot(db: Executor, id: string): Promise<boolean> {
  const roots = await db.selectFrom('organisations').select('id').where('parent_id', 'is', null).limit(2).execute();
  return roots.length === 1 && roots[0]?.id === id;
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

/** The organisation and its ancestors, nearest first (the organisation itself, then its parent, up to the root). */
export async function ancestorIds(db: Executor, orgId: string): Promise<string[]> {
  const rows = await db
    .withRecursive('up(id, parent_id, depth)', (qb) =>
      qb
        .selectFrom('organisations')
        .select(['id', 'parent_id', sql<number>`0`.as('depth')])
        .where('id', '=', orgId)
        .unionAll((q) =>
          q
            .selectFrom('organisations as o')
            .innerJoin('up', 'up.parent_id', 'o.id')
            .select(['o.id', 'o.parent_id', sql<number>`up.depth + 1`.as('depth')])
            .where('up.depth', '<', 64),
        ),
    )
    .selectFrom('up')
    .select(['id', 'depth'])
    .orderBy('depth')
    .execute();
  return rows.map((r) => r.id);
}
