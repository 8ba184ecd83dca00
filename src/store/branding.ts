import type { Executor } from './database.js';
import type { OrganisationBranding } from './schema.js';

export async function findBranding(db: Executor, orgId: string): Promise<OrganisationBranding | undefined> {
  return db.selectFrom('organisation_branding').selectAll().where('org_id', '=', orgId).executeTakeFirst();
}

/** The branding rows of these organisations (any order; callers pick the nearest). */
export async function listBranding(db: Executor, orgIds: readonly string[]): Promise<OrganisationBranding[]> {
  if (orgIds.length === 0) return [];
  return db.selectFrom('organisation_branding').selectAll().where('org_id', 'in', orgIds).execute();
}

export async function upsertBranding(db: Executor, row: OrganisationBranding): Promise<void> {
  await db
    .insertInto('organisation_branding')
    .values(row)
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ company_name: row.company_name, updated_at: row.updated_at, updated_by: row.updated_by }))
    .execute();
}

export async function deleteBranding(db: Executor, orgId: string): Promise<void> {
  await db.deleteFrom('organisation_branding').where('org_id', '=', orgId).execute();
}
