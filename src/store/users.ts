import type { Executor } from './database.js';
import type { NewUser, User, UserStatus } from './schema.js';

export async function insertUser(db: Executor, user: NewUser): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

export async function findUser(db: Executor, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByEmail(db: Executor, emailNormalized: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setUserStatus(db: Executor, id: string, status: UserStatus): Promise<void> {
  await db.updateTable('users').set({ status }).where('id', '=', id).execute();
}

export async function setPasswordHash(db: Executor, id: string, hash: string, nowMs: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash, password_changed_at: nowMs }).where('id', '=', id).execute();
}

export async function setTimeZone(db: Executor, id: string, timeZone: string): Promise<void> {
  await db.updateTable('users').set({ time_zone: timeZone }).where('id', '=', id).execute();
}

/**
 * Records a TOTP time step as used, only if it is newer than any step used before.
 * One conditional UPDATE is atomic on both dialects, so of N concurrent requests carrying
 * the same code, on any number of nodes, exactly one sees a changed row.
 */
export async function claimTotpStep(db: Executor, userId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Compare-and-set of the second-factor lockout state: succeeds only if nobody changed the
 * failure count since it was read, so concurrent guesses cannot share one free attempt.
 */
export async function swapSecondFactorLockout(
  db: Executor,
  userId: string,
  expectedFailures: number,
  next: { failures: number; lockedUntil: number | null },
): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ second_factor_failures: next.failures, second_factor_locked_until: next.lockedUntil })
    .where('id', '=', userId)
    .where('second_factor_failures', '=', expectedFailures)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function resetSecondFactorLockout(db: Executor, userId: string): Promise<void> {
  await db.updateTable('users').set({ second_factor_failures: 0, second_factor_locked_until: null }).where('id', '=', userId).execute();
}

export interface UserListFilter {
  orgIds: string[];
  query?: string | undefined;
  limit: number;
  afterEmail?: string | undefined;
}

export async function listUsers(db: Executor, filter: UserListFilter): Promise<User[]> {
  if (filter.orgIds.length === 0) return [];
  let q = db.selectFrom('users').selectAll().where('org_id', 'in', filter.orgIds);
  if (filter.query) {
    const like = `%${filter.query.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    q = q.where((eb) => eb.or([eb('email_normalized', 'like', like), eb(eb.fn('lower', ['display_name']), 'like', like)]));
  }
  if (filter.afterEmail) q = q.where('email_normalized', '>', filter.afterEmail);
  return q.orderBy('email_normalized').limit(filter.limit).execute();
}
