import type { ExpressionBuilder } from 'kysely';
import type { Executor } from './database.js';
import type { OneTimeCode, OneTimeCodePurpose, Schema } from './schema.js';

export interface CodeScope {
  userId: string;
  purpose: OneTimeCodePurpose;
  scope: string;
}

/** The rows of one user, purpose and scope: every query here narrows to one. */
function inScope(where: CodeScope) {
  return (eb: ExpressionBuilder<Schema, 'one_time_codes'>) =>
    eb.and([eb('user_id', '=', where.userId), eb('purpose', '=', where.purpose), eb('scope', '=', where.scope)]);
}

export async function insertCode(db: Executor, row: OneTimeCode): Promise<void> {
  await db.insertInto('one_time_codes').values(row).execute();
}

/** A new code replaces every earlier live one for the same user, purpose and scope. */
export async function voidLiveCodes(db: Executor, where: CodeScope): Promise<number> {
  const r = await db
    .updateTable('one_time_codes')
    .set({ status: 'voided' })
    .where(inScope(where))
    .where('status', '=', 'live')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function liveCodes(db: Executor, where: CodeScope, nowMs: number): Promise<OneTimeCode[]> {
  return db
    .selectFrom('one_time_codes')
    .selectAll()
    .where(inScope(where))
    .where('status', '=', 'live')
    .where('expires_at', '>', nowMs)
    .execute();
}

/** The most recent code sent for this scope, whatever became of it: the resend wait counts from it. */
export async function latestCode(db: Executor, where: CodeScope): Promise<OneTimeCode | undefined> {
  return db
    .selectFrom('one_time_codes')
    .selectAll()
    .where(inScope(where))
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Spends a code once: of two concurrent requests with the same code, exactly one gets true. */
export async function spendCode(db: Executor, id: string, nowMs: number): Promise<boolean> {
  const r = await db
    .updateTable('one_time_codes')
    .set({ status: 'used', used_at: nowMs })
    .where('id', '=', id)
    .where('status', '=', 'live')
    .where('expires_at', '>', nowMs)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Counts a wrong guess against every live code of the scope; a code that reached `max` stops working. */
export async function countWrongAttempt(db: Executor, where: CodeScope, max: number): Promise<void> {
  await db
    .updateTable('one_time_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where(inScope(where))
    .where('status', '=', 'live')
    .execute();
  await db
    .updateTable('one_time_codes')
    .set({ status: 'voided' })
    .where(inScope(where))
    .where('status', '=', 'live')
    .where('attempts', '>=', max)
    .execute();
}

/** Codes that expired over a day ago, of one user (cheap on the user index) or of everyone. */
export async function deleteExpiredCodes(db: Executor, nowMs: number, userId?: string): Promise<void> {
  let query = db.deleteFrom('one_time_codes').where('expires_at', '<=', nowMs - 24 * 60 * 60_000);
  if (userId !== undefined) query = query.where('user_id', '=', userId);
  await query.execute();
}
