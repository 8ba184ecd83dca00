import type { Executor } from './database.js';
import type { SignInFlow, SignInFlowState } from './schema.js';

export async function insertSignInFlow(db: Executor, flow: SignInFlow): Promise<void> {
  await db.insertInto('sign_in_flows').values(flow).execute();
}

export async function findSignInFlowByTokenHash(db: Executor, tokenHash: string): Promise<SignInFlow | undefined> {
  return db.selectFrom('sign_in_flows').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Moves a flow from one state to the next only if nobody else moved it first. */
export async function transitionSignInFlow(
  db: Executor,
  id: string,
  from: SignInFlowState,
  to: SignInFlowState,
  amr: string[],
): Promise<boolean> {
  const r = await db
    .updateTable('sign_in_flows')
    .set({ state: to, amr: JSON.stringify(amr) })
    .where('id', '=', id)
    .where('state', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deleteExpiredSignInFlows(db: Executor, nowMs: number): Promise<void> {
  await db.deleteFrom('sign_in_flows').where('expires_at', '<', nowMs).execute();
}
