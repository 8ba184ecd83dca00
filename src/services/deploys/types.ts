import type { DeployTiming, Deployment } from '../../store/index.js';
import type { ApiPrincipal } from '../api-keys.js';
import type { Principal } from '../principal.js';

/** `sessionId`: the person's session, when known, so a security-key challenge for a deploy is good in that session only. */
export type DeployActor = { kind: 'user'; user: Principal; sessionId?: string | undefined } | { kind: 'api_key'; principal: ApiPrincipal };

export interface TargetView {
  id: string;
  orgId: string;
  name: string;
  timing: DeployTiming;
  requireTwoFactor: boolean;
  bundleUrl: string;
  deployers: Array<{ id: string; email: string; enrolled: boolean }>;
  currentDeployment: DeploymentView | null;
  pendingChanges: number;
}

export interface DeploymentView {
  id: string;
  digest: string;
  summary: string[];
  approver: string;
  method: string;
  approval: string;
  rollbackOf: string | null;
  createdAt: string;
}

export interface DeployPreview {
  target: TargetView;
  /** What would go out: pending changes since the current deployment, oldest first. */
  changes: PendingChangeView[];
  digest: string;
  pendingVersion: number;
  unchanged: boolean;
}

/**
 * One pending change with the values it swaps: `oldValue` is the entry as it stands before this
 * change (what is live, or what the earlier pending changes made it), `newValue` what it becomes.
 * Both are canonical JSON text, or null when the entry is absent (added, or removed).
 */
export interface PendingChangeView {
  id: number;
  key: string;
  summary: string;
  author: string;
  createdAt: string;
  oldValue: string | null;
  newValue: string | null;
}

/** Someone an admin may name as a deployer: active, holding a second factor, able to see the target. */
export interface DeployerCandidate {
  id: string;
  email: string;
  displayName: string;
}

export interface DeployInput {
  /** The digest the deployer reviewed. */
  digest: string;
  method?: string | undefined;
  code?: string | undefined;
  /** Roll back: the earlier deployment whose bundle goes live again. */
  rollbackTo?: string | undefined;
  /** With a security key: the server nonce the WebAuthn challenge was derived from (see core/webauthn.ts). */
  nonce?: string | undefined;
}

/** What a deployer reviewed: the bundle digest, the pending version it came from (null for a roll back) and what was live. */
export interface Expected {
  digest: string;
  pendingVersion: number | null;
  currentDeploymentId: string | null;
}

/** A signed approval, made before the transaction that records its deployment. */
export interface ApprovalDraft {
  id: string;
  at: number;
  token: string;
}

export const APPROVAL_TYP = 'twofold-deploy-approval+jwt';
export const NO_TARGET = { code: 'deploy_target_not_found', message: 'No such deploy target.' } as const;

export function actorRef(actor: DeployActor): string {
  return actor.kind === 'user' ? `user:${actor.user.id}` : `api_key:${actor.principal.keyId}`;
}

export function toDeploymentView(d: Deployment): DeploymentView {
  return {
    id: d.id,
    digest: d.digest,
    summary: [...d.summary],
    approver: d.approver,
    method: d.method,
    approval: d.approval,
    rollbackOf: d.rollback_of,
    createdAt: new Date(d.created_at).toISOString(),
  };
}
