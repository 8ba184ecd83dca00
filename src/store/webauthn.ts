import type { Executor } from './database.js';
import type { WebAuthnChallenge, WebAuthnChallengePurpose, WebAuthnCredential, WebAuthnCredentialTable } from './schema.js';

export async function insertCredential(db: Executor, credential: WebAuthnCredentialTable): Promise<void> {
  await db.insertInto('webauthn_credentials').values(credential).execute();
}

export async function findCredentialById(db: Executor, credentialId: string): Promise<WebAuthnCredential | undefined> {
  return db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
}

/** The credentials behind a user's active security-key factors. */
export async function listActiveCredentials(db: Executor, userId: string): Promise<WebAuthnCredential[]> {
  return db
    .selectFrom('webauthn_credentials as c')
    .innerJoin('factors as f', 'f.id', 'c.factor_id')
    .selectAll('c')
    .where('c.user_id', '=', userId)
    .where('f.status', '=', 'active')
    .orderBy('f.created_at')
    .execute();
}

/**
 * Moves the signature counter on, only from the value the check was made against: two
 * assertions judged against the same counter cannot both move it.
 */
export async function advanceSignCount(db: Executor, factorId: string, from: number, to: number, backupState: boolean): Promise<boolean> {
  const r = await db
    .updateTable('webauthn_credentials')
    .set({ sign_count: to, backup_state: backupState ? 1 : 0 })
    .where('factor_id', '=', factorId)
    .where('sign_count', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface NewChallenge {
  id: string;
  challengeHash: string;
  userId: string | null;
  purpose: WebAuthnChallengePurpose;
  scope: string;
  nowMs: number;
  expiresAt: number;
}

/** A new challenge for one purpose and scope; the earlier unspent ones of that scope stop working. */
export async function replaceChallenge(db: Executor, c: NewChallenge): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('purpose', '=', c.purpose).where('scope', '=', c.scope).where('used_at', 'is', null).execute();
  await db
    .insertInto('webauthn_challenges')
    .values({ id: c.id, challenge_hash: c.challengeHash, user_id: c.userId, purpose: c.purpose, scope: c.scope, created_at: c.nowMs, expires_at: c.expiresAt, used_at: null })
    .execute();
}

export async function findChallenge(db: Executor, challengeHash: string, purpose: WebAuthnChallengePurpose, scope: string): Promise<WebAuthnChallenge | undefined> {
  return db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', challengeHash).where('purpose', '=', purpose).where('scope', '=', scope).executeTakeFirst();
}

/** Spends a challenge once: of two requests carrying it at the same moment, one wins. */
export async function spendChallenge(db: Executor, id: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable('webauthn_challenges').set({ used_at: nowMs }).where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', nowMs).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
