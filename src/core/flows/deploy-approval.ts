import { forbidden, invalidInput } from '../errors.js';
import type { Flow } from './flow.js';

/**
 * Approving one deploy: a target, the digest of exactly what goes live (the pending bundle or
 * the deployment rolled back to) and, on a protected target, a fresh code from the approver's
 * device. It is bound to the digest rather than to a clock: when the pending bundle changes, the
 * review (and any code sent for it) no longer matches, so `expiresAt` is only the code's horizon.
 *
 * Backup codes never approve a deploy: they exist to get back into an account, and a deploy is
 * not a way in.
 */
export type DeployApprovalState = 'code_required' | 'ready';
export const DEPLOY_APPROVAL_METHODS = ['totp', 'sms', 'email', 'webauthn', 'push'] as const;

export interface DeployApprovalFlow extends Flow<'deploy_approval', DeployApprovalState> {
  readonly targetId: string;
  readonly digest: string;
  readonly rollbackOf: string | null;
}

export function deployApprovalFlow(input: {
  targetId: string;
  digest: string;
  rollbackOf: string | null;
  requireTwoFactor: boolean;
  nowMs: number;
  codeLifetimeMs: number;
  /** What the approver holds (factor types, `push` for a paired phone): a key or a phone is offered only to whoever has one. */
  held?: readonly string[];
}): DeployApprovalFlow {
  const held = input.held;
  const offered = DEPLOY_APPROVAL_METHODS.filter((m) => (m !== 'webauthn' && m !== 'push') || (held?.includes(m) ?? false));
  const methods = input.requireTwoFactor ? offered : [];
  return {
    kind: 'deploy_approval',
    state: input.requireTwoFactor ? 'code_required' : 'ready',
    targetId: input.targetId,
    digest: input.digest,
    rollbackOf: input.rollbackOf,
    methods,
    amr: [],
    returnTo: null,
    expiresAt: input.nowMs + input.codeLifetimeMs,
  };
}

/** Throws why `method` cannot approve this deploy; returns it when it can. */
export function acceptsApprovalMethod(flow: DeployApprovalFlow, method: string | undefined): string {
  if (flow.state === 'ready') throw invalidInput('code_not_required', 'This target does not ask for a code: deploy without one.');
  if (!method) throw forbidden('code_required', 'Enter a current code to deploy to this target.');
  if (method === 'backup_code') throw invalidInput('method_not_allowed', 'Deploys need a code from your device, not a backup code.');
  // Which of these the approver holds is the verifier's to judge, with the answer it gives everywhere.
  if (!flow.methods.includes(method)) throw invalidInput('method_not_allowed', `The method "${method}" cannot approve this deploy.`);
  return method;
}

/** The channel a code to approve this deploy may be sent by; throws why none can be sent by `method`. */
export function acceptsCodeRequest(flow: DeployApprovalFlow, method: string): 'sms' | 'email' {
  if (method !== 'sms' && method !== 'email') throw invalidInput('method_not_sendable', 'Only text-message and email codes are sent.');
  acceptsApprovalMethod(flow, method);
  return method;
}
