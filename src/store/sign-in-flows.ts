import type { SignInFlow, SignInFlowState } from '../core/flows/sign-in.js';
import type { Executor } from './database.js';
import type { SignInFlowRow } from './schema.js';

/** Who opened the flow: kept with it for the audit trail, not part of the flow's rules. */
export interface FlowOrigin {
  tokenHash: string;
  ip: string;
  userAgent: string;
}

function flowOf(row: SignInFlowRow): SignInFlow {
  return {
    kind: 'sign_in',
    id: row.id,
    userId: row.user_id,
    state: row.state,
    methods: JSON.parse(row.methods) as string[],
    amr: JSON.parse(row.amr) as string[],
    returnTo: row.return_to,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export async function insertSignInFlow(db: Executor, flow: SignInFlow, origin: FlowOrigin): Promise<void> {
  await db
    .insertInto('sign_in_flows')
    .values({
      id: flow.id,
      token_hash: origin.tokenHash,
      user_id: flow.userId,
      state: flow.state,
      methods: JSON.stringify(flow.methods),
      amr: JSON.stringify(flow.amr),
      return_to: flow.returnTo,
      created_at: flow.createdAt,
      expires_at: flow.expiresAt,
      ip: origin.ip,
      user_agent: origin.userAgent.slice(0, 512),
    })
    .execute();
}

export async function findSignInFlowByTokenHash(db: Executor, tokenHash: string): Promise<SignInFlow | undefined> {
  const row = await db.selectFrom('sign_in_flows').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row && flowOf(row);
}

/** Saves `next` only if the stored flow is still in `from`: of two requests moving one flow on, one wins. */
export async function transitionSignInFlow(db: Executor, next: SignInFlow, from: SignInFlowState): Promise<boolean> {
  const r = await db
    .updateTable('sign_in_flows')
    .set({ state: next.state, methods: JSON.stringify(next.methods), amr: JSON.stringify(next.amr) })
    .where('id', '=', next.id)
    .where('state', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Ends a pending flow now ("This wasn't me" on the phone): it accepts nothing more. */
export async function endSignInFlow(db: Executor, flowId: string, now: number): Promise<void> {
  await db.updateTable('sign_in_flows').set({ expires_at: now }).where('id', '=', flowId).where('state', '!=', 'completed').where('expires_at', '>', now).execute();
}
