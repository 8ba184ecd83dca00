import type { DeployTiming, Deployment, User } from '../../store/index.js';
import type { ApiPrincipal } from '../api-keys.js';

export type DeployActor = { kind: 'user'; user: User } | { kind: 'api_key'; principal: ApiPrincipal };

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
  changes: Array<{ id: number; key: string; summary: string; author: string; createdAt: string }>;
  digest: string;
  pendingVersion: number;
  unchanged: boolean;
}

export interface DeployInput {
  /** The digest the deployer reviewed. */
  digest: string;
  method?: string | undefined;
  code?: string | undefined;
  /** Roll back: the earlier deployment whose bundle goes live again. */
  rollbackTo?: string | undefined;
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
    summary: JSON.parse(d.summary) as string[],
    approver: d.approver,
    method: d.method,
    approval: d.approval,
    rollbackOf: d.rollback_of,
    createdAt: new Date(d.created_at).toISOString(),
  };
}
