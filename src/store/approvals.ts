import type { Executor } from './database.js';
import type { ApprovalRequest, ApprovalRequestState, ApproverDevice, ApproverDeviceTable, ApprovalRequestTable } from './schema.js';

/** Phones paired as approvers, pairing links and approval requests (migration 0019). */

export async function insertDevice(db: Executor, row: ApproverDeviceTable): Promise<void> {
  await db.insertInto('approver_devices').values(row).execute();
}

export async function listActiveDevices(db: Executor, userId: string): Promise<ApproverDevice[]> {
  return db.selectFrom('approver_devices').selectAll().where('user_id', '=', userId).where('removed_at', 'is', null).orderBy('created_at').execute();
}

export async function countActiveDevices(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('approver_devices')
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A device by id, removed or not (a removed one still signs nothing: callers check `removed_at`). */
export async function findDevice(db: Executor, deviceId: string): Promise<ApproverDevice | undefined> {
  return db.selectFrom('approver_devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
}

export async function renameDevice(db: Executor, userId: string, deviceId: string, name: string): Promise<boolean> {
  const r = await db.updateTable('approver_devices').set({ name }).where('id', '=', deviceId).where('user_id', '=', userId).where('removed_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Removes a device and forgets its push subscription; its pending requests end with it. */
export async function removeDevice(db: Executor, userId: string, deviceId: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('approver_devices')
    .set({ removed_at: now, push_subscription_encrypted: null })
    .where('id', '=', deviceId)
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await db.updateTable('approval_requests').set({ state: 'cancelled', decided_at: now }).where('device_id', '=', deviceId).where('state', '=', 'pending').execute();
  return true;
}

/**
 * Removes every phone a user paired and cancels their pending requests: the admin reset's
 * lost-phone case, where whoever holds the phone must not approve the next sign-in.
 * Answers the removed devices.
 */
export async function removeAllDevices(db: Executor, userId: string, now: number): Promise<Pick<ApproverDevice, 'id' | 'name'>[]> {
  const removed = await db
    .updateTable('approver_devices')
    .set({ removed_at: now, push_subscription_encrypted: null })
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .returning(['id', 'name'])
    .execute();
  await db.updateTable('approval_requests').set({ state: 'cancelled', decided_at: now }).where('user_id', '=', userId).where('state', '=', 'pending').execute();
  return removed;
}

export async function markDeviceUsed(db: Executor, deviceId: string, now: number): Promise<void> {
  await db.updateTable('approver_devices').set({ last_used_at: now }).where('id', '=', deviceId).execute();
}

export async function setSubscription(db: Executor, deviceId: string, sealed: string | null): Promise<void> {
  await db.updateTable('approver_devices').set({ push_subscription_encrypted: sealed }).where('id', '=', deviceId).where('removed_at', 'is', null).execute();
}

export async function insertPairing(db: Executor, row: { id: string; user_id: string; token_hash: string; created_at: number; expires_at: number }): Promise<void> {
  await db.insertInto('approver_pairings').values({ ...row, used_at: null, device_id: null }).execute();
}

/**
 * Spends a pairing link: only an unused, unexpired one, and only once across every node (the
 * update is conditional). Returns the user it pairs for, or null.
 */
export async function claimPairing(db: Executor, tokenHash: string, deviceId: string, now: number): Promise<string | null> {
  const row = await db.selectFrom('approver_pairings').select(['id', 'user_id']).where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  if (!row) return null;
  const r = await db.updateTable('approver_pairings').set({ used_at: now, device_id: deviceId }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? row.user_id : null;
}

export async function insertRequest(db: Executor, row: ApprovalRequestTable): Promise<void> {
  await db.insertInto('approval_requests').values(row).execute();
}

export async function findRequest(db: Executor, requestId: string): Promise<ApprovalRequest | undefined> {
  return db.selectFrom('approval_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
}

export async function findPendingForUser(db: Executor, userId: string): Promise<ApprovalRequest | undefined> {
  return db.selectFrom('approval_requests').selectAll().where('user_id', '=', userId).where('state', '=', 'pending').executeTakeFirst();
}

/** Pending and not yet expired, for one device: what its app lists. */
export async function listPendingForDevice(db: Executor, deviceId: string, now: number): Promise<ApprovalRequest[]> {
  return db.selectFrom('approval_requests').selectAll().where('device_id', '=', deviceId).where('state', '=', 'pending').where('expires_at', '>', now).orderBy('created_at').execute();
}

/** Marks a user's expired pending request expired, so the one-pending index lets a new one in. */
export async function expirePending(db: Executor, userId: string, now: number): Promise<void> {
  await db.updateTable('approval_requests').set({ state: 'expired' }).where('user_id', '=', userId).where('state', '=', 'pending').where('expires_at', '<=', now).execute();
}

/** Cancels the user's pending request when it is for `binding` (the same flow asking again). */
export async function cancelPendingFor(db: Executor, userId: string, binding: string, now: number): Promise<void> {
  await db.updateTable('approval_requests').set({ state: 'cancelled', decided_at: now }).where('user_id', '=', userId).where('binding', '=', binding).where('state', '=', 'pending').execute();
}

/**
 * Compare-and-set from `pending` to a decision, only before expiry: of two racing decisions
 * (two taps, two nodes) exactly one writes. Says whether this one did.
 */
export async function decide(db: Executor, requestId: string, state: Exclude<ApprovalRequestState, 'pending'>, now: number): Promise<boolean> {
  const r = await db.updateTable('approval_requests').set({ state, decided_at: now }).where('id', '=', requestId).where('state', '=', 'pending').where('expires_at', '>', now).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Spends an approval on what it unlocks: once, for its own binding and user, across every node. */
export async function spendApproval(db: Executor, requestId: string, userId: string, binding: string, notDecidedBefore: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('approval_requests')
    .set({ used_at: now })
    .where('id', '=', requestId)
    .where('user_id', '=', userId)
    .where('binding', '=', binding)
    .where('state', '=', 'approved')
    .where('used_at', 'is', null)
    .where('decided_at', '>=', notDecidedBefore)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The decisions on a user's latest requests, newest first: how many denials came in a row. */
/** The latest decisions made after `since` (ms), newest first. */
export async function recentDecisions(db: Executor, userId: string, limit: number, since = 0): Promise<ApprovalRequestState[]> {
  const rows = await db
    .selectFrom('approval_requests')
    .select('state')
    .where('user_id', '=', userId)
    .where('state', 'in', ['approved', 'denied', 'reported'])
    .where('decided_at', '>', since)
    .orderBy('decided_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.state);
}
