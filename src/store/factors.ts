import type { Executor } from './database.js';
import type { Factor } from './schema.js';

export type NewFactor = Omit<Factor, 'destination_masked' | 'replaces_factor_id'> & Partial<Pick<Factor, 'destination_masked' | 'replaces_factor_id'>>;

export async function insertFactor(db: Executor, factor: NewFactor): Promise<void> {
  await db.insertInto('factors').values({ destination_masked: null, replaces_factor_id: null, ...factor }).execute();
}

export async function findFactor(db: Executor, userId: string, id: string): Promise<Factor | undefined> {
  return db.selectFrom('factors').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

export async function listActiveFactors(db: Executor, userId: string): Promise<Factor[]> {
  return db.selectFrom('factors').selectAll().where('user_id', '=', userId).where('status', '=', 'active').orderBy('created_at').execute();
}

export async function countActiveFactors(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('factors')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * What "holds a second factor" means wherever it is decided (step-up, deployers, the admin list of
 * people without 2FA, OIDC): an active factor, or a paired phone (approvers live outside this table).
 */
export async function countHeldFactors(db: Executor, userId: string): Promise<number> {
  const phones = await db
    .selectFrom('approver_devices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return (await countActiveFactors(db, userId)) + Number(phones.n);
}

/** Active and still-pending factors: the per-user cap counts both so pending rows cannot pile up. */
export async function countLiveFactors(db: Executor, userId: string): Promise<number> {
  const row = await db.selectFrom('factors').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Switches a pending factor on, once, and only while its enrolment has not expired. */
export async function activateFactor(db: Executor, id: string, nowMs: number): Promise<boolean> {
  const r = await db
    .updateTable('factors')
    .set({ status: 'active', confirmed_at: nowMs, expires_at: null, last_used_at: nowMs })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', nowMs)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A new name for one of the person's active factors; false when there is no such factor. */
export async function renameFactor(db: Executor, userId: string, id: string, label: string): Promise<boolean> {
  const r = await db.updateTable('factors').set({ label }).where('id', '=', id).where('user_id', '=', userId).where('status', '=', 'active').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markFactorUsed(db: Executor, id: string, nowMs: number): Promise<void> {
  await db.updateTable('factors').set({ last_used_at: nowMs }).where('id', '=', id).execute();
}

export async function deleteFactor(db: Executor, userId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('factors').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export async function deleteExpiredPendingFactors(db: Executor, userId: string, nowMs: number): Promise<void> {
  await db.deleteFrom('factors').where('user_id', '=', userId).where('status', '=', 'pending').where('expires_at', '<=', nowMs).execute();
}

/** Active factors and unexpired-or-not pending ones (callers delete expired pending rows first). */
export async function listLiveFactors(db: Executor, userId: string): Promise<Factor[]> {
  return db.selectFrom('factors').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}
