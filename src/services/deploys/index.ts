import type { DeployTiming } from '../../store/index.js';
import type { Actor } from '../actor.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { CodeSender, SentCode } from '../messaging/code-sender.js';
import type { MethodCatalogue } from '../methods.js';
import type { SecondFactorVerifier } from '../second-factor/verifier.js';
import type { SigningKeyService } from '../signing-keys.js';
import type { SecurityKeyService } from '../security-keys.js';
import type { ApprovalService, ApprovalStatus, StartedApproval } from '../approvals/approvals.js';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { DeployAccess } from './access.js';
import { DeployApprovals } from './approval.js';
import { DeployChanges } from './changes.js';
import { Deployments } from './deploy.js';
import { DeployTargets } from './targets.js';
import type { DeployActor, DeployInput, DeployPreview, DeployerCandidate, DeploymentView, TargetView } from './types.js';
import type { Principal, SessionPrincipal } from '../principal.js';

export type { DeployActor, DeployInput, DeployPreview, DeployerCandidate, DeploymentView, PendingChangeView, TargetView } from './types.js';
export { APPROVAL_TYP } from './types.js';

/**
 * Deploy targets and their deployments. A protected target (require 2FA) only goes live when an
 * authorised, enrolled person enters a fresh code against the exact bundle they reviewed; the
 * result is signed so a pipeline can check it offline against the published JWKS.
 *
 * One facade over small parts: targets (settings, deployers), changes (the pending bundle),
 * approval (signing, deploy codes), deploy (going live, roll back, history).
 */
export class DeployService {
  private readonly targets: DeployTargets;
  private readonly changes: DeployChanges;
  private readonly approvals: DeployApprovals;
  private readonly deployments: Deployments;

  constructor(deps: ServiceDeps, verifier: SecondFactorVerifier, signingKeys: SigningKeyService, codes: CodeSender, methods: MethodCatalogue, securityKeys: SecurityKeyService, approvals: ApprovalService) {
    const access = new DeployAccess(deps);
    this.targets = new DeployTargets(deps, access, verifier);
    this.approvals = new DeployApprovals(deps, access, verifier, signingKeys, codes, methods, securityKeys, approvals);
    this.deployments = new Deployments(deps, access, this.approvals);
    this.changes = new DeployChanges(deps, access, this.approvals, this.deployments);
  }

  createTarget(actor: Actor, orgId: string, input: { name: string; timing: DeployTiming; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    return this.targets.createTarget(actor, orgId, input, meta);
  }

  /** Every route that could switch the requirement off ends here, and is refused here. */
  updateTarget(actor: Actor, targetId: string, input: { name?: string | undefined; timing?: DeployTiming | undefined; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    return this.targets.updateTarget(actor, targetId, input, meta);
  }

  listTargets(actor: DeployActor, orgId: string | undefined): Promise<TargetView[]> {
    return this.targets.listTargets(actor, orgId);
  }

  getTarget(actor: DeployActor, targetId: string): Promise<TargetView> {
    return this.targets.getTarget(actor, targetId);
  }

  /** People an admin may name as deployers of a target (active, with 2FA, able to see it). */
  deployerCandidates(actor: Actor, targetId: string): Promise<DeployerCandidate[]> {
    return this.targets.deployerCandidates(actor, targetId);
  }

  /** For a protected target the editor proves a current code; a sent one is their session's "confirm it is you" code. */
  setDeployers(editor: { user: Principal; session: SessionPrincipal }, targetId: string, input: { userIds: readonly string[]; method?: string | undefined; code?: string | undefined }, meta: RequestMeta): Promise<TargetView> {
    return this.targets.setDeployers(editor, targetId, input, meta);
  }

  addChange(actor: DeployActor, targetId: string, input: { key: string; value?: unknown; summary: string }, meta: RequestMeta | null): Promise<{ pendingVersion: number; digest: string; deployment: DeploymentView | null }> {
    return this.changes.addChange(actor, targetId, input, meta);
  }

  preview(actor: DeployActor, targetId: string): Promise<DeployPreview> {
    return this.changes.preview(actor, targetId);
  }

  /** Sends a code that approves exactly this deploy: this target, this digest (see approval.ts). */
  sendApprovalCode(actor: DeployActor, targetId: string, input: { digest: string; method: string; rollbackTo?: string | undefined }, meta: RequestMeta): Promise<SentCode> {
    return this.approvals.sendCode(actor, targetId, input, meta);
  }

  /** Options for the security key that approves exactly this deploy (challenge derived from target and digest). */
  webAuthnOptions(actor: DeployActor, targetId: string, input: { digest: string; rollbackTo?: string | undefined }): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; nonce: string }> {
    return this.approvals.webAuthnOptions(actor, targetId, input);
  }

  /** Sends this deploy (target, number of changes; bound to the digest) to one of the approver's phones. */
  requestApproval(actor: DeployActor, targetId: string, input: { digest: string; approverId: string; rollbackTo?: string | undefined }, meta: RequestMeta): Promise<StartedApproval> {
    return this.approvals.requestApproval(actor, targetId, input, meta);
  }

  approvalStatus(actor: DeployActor, targetId: string, input: { digest: string; requestId: string; rollbackTo?: string | undefined }): Promise<ApprovalStatus> {
    return this.approvals.approvalStatus(actor, targetId, input);
  }

  /** Deploy Now, or a roll back (see deploy.ts). */
  deploy(actor: DeployActor, targetId: string, input: DeployInput, meta: RequestMeta): Promise<DeploymentView> {
    return this.deployments.deploy(actor, targetId, input, meta);
  }

  history(actor: DeployActor, targetId: string, limit = 50): Promise<DeploymentView[]> {
    return this.deployments.history(actor, targetId, limit);
  }

  actorLabels(refs: readonly string[]): Promise<Map<string, string>> {
    return this.deployments.actorLabels(refs);
  }

  publicBundle(publicKey: string): Promise<{ body: string; digest: string; approval: string; deploymentId: string } | null> {
    return this.deployments.publicBundle(publicKey);
  }
}
