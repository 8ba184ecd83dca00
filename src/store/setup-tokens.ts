import type { Executor } from './database.js';

export async function replaceSetupToken(db: Executor, tokenHash: string, nowMs: number, expiresAt: number): Promise<void> {
  await db.deleteFrom('setup_tokens').execute();
  await db.insertInto('setup_tokens').values({ token_hash: tokenHash, created_at: nowMs, expires_at: expiresAt }).execute();
}

/** Spends the token: deleting it is the check, so it works once even under concurrency. */
export async function consumeSetupToken(db: Executor, tokenHash: string, nowMs: number): Promise<boolean> {
  const r = await db.deleteFrom('setup_tokens').where('token_hash', '=', tokenHash).where('expires_at', '>', nowMs).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export async function setupTokenIsValid(db: Executor, tokenHash: string, nowMs: number): Promise<boolean> {
  const row = await db.selectFrom('setup_tokens').select('token_hash').where('token_hash', '=', tokenHash).where('expires_at', '>', nowMs).executeTakeFirst();
  return row !== undefined;
}
