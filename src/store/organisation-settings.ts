import type { Executor } from './database.js';

/** Whether the organisation emails people their new backup codes; no row means off. */
export async function findEmailBackupCodes(db: Executor, orgId: string): Promise<boolean> {
  const row = await db.selectFrom('organisation_settings').select('email_backup_codes').where('org_id', '=', orgId).executeTakeFirst();
  return Number(row?.email_backup_codes ?? 0) === 1;
}

export async function setEmailBackupCodes(db: Executor, row: { orgId: string; on: boolean; updatedAt: number; updatedBy: string }): Promise<void> {
  const values = { email_backup_codes: row.on ? 1 : 0, updated_at: row.updatedAt, updated_by: row.updatedBy };
  await db
    .insertInto('organisation_settings')
    .values({ org_id: row.orgId, ...values })
    .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
    .execute();
}
