import type { Bundle } from '../../core/bundle.js';
import { applyChange, canonicalJson } from '../../core/bundle.js';
import { conflict, notFound } from '../../core/errors.js';
import type { DeployTarget, Deployment, Executor } from '../../store/index.js';
import { deploys, users } from '../../store/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { DeployAccess } from './access.js';
import type { DeployApprovals } from './approval.js';
import { reviewDeploy } from './review.js';
import type { ApprovalDraft, DeployActor, DeployInput, DeploymentView, Expected } from './types.js';
import { NO_TARGET, actorRef, toDeploymentView } from './types.js';
import type { Principal } from '../principal.js';

/** Going live, rolling back, and what has been deployed: the history, its labels, the public bundle. */
export class Deployments {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: DeployAccess,
    private readonly approvals: DeployApprovals,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  /**
   * Deploy Now. `digest` is what the deployer reviewed: if the pending bundle changed since, nothing
   * goes live. On a protected target the deployer must be listed, enrolled, and enter a current
   * code (the same once-only and lockout rules as sign-in; a recent sign-in does not count).
   */
  async deploy(actor: DeployActor, targetId: string, input: DeployInput, meta: RequestMeta): Promise<DeploymentView> {
    try {
      return await this.deployChecked(actor, targetId, input, meta);
    } catch (error) {
      const target = await deploys.findTarget(this.db, targetId);
      // Refusals are audited where the actor could see the target; probes of other trees are just 404s.
      if (target && (await this.access.mayKnow(actor, target))) {
        const code = error instanceof Error && 'code' in error ? String((error as { code: unknown }).code) : 'error';
        const details = { targetId, reason: code, digest: input.digest.slice(0, 80), ...(actor.kind === 'api_key' ? { apiKeyId: actor.principal.keyId } : {}) };
        await recordAudit(this.db, this.deps.clock(), { type: 'deployment.refused', actorUserId: actor.kind === 'user' ? actor.user.id : null, orgId: target.org_id, meta, details });
      }
      throw error;
    }
  }

  private async deployChecked(actor: DeployActor, targetId: string, input: DeployInput, meta: RequestMeta): Promise<DeploymentView> {
    const reviewed = await reviewDeploy(this.access, actor, targetId, input);
    const { target, expected, bundle, rollbackOf, approver: user } = reviewed;
    if (!user) {
      return this.goLive(target, expected, bundle, actorRef(actor), 'none', rollbackOf, actor.kind === 'user' ? actor.user : null, meta);
    }
    const sessionId = actor.kind === 'user' ? actor.sessionId : undefined;
    return this.approvals.approve(user, reviewed, input, meta, (trx, approval, method) => this.commit(trx, target.id, expected, bundle, `user:${user.id}`, method, rollbackOf, approval, meta, user), sessionId);
  }

  async history(actor: DeployActor, targetId: string, limit = 50): Promise<DeploymentView[]> {
    await this.access.readableTarget(actor, targetId, 'deployments:read');
    return (await deploys.listDeployments(this.db, targetId, Math.min(Math.max(limit, 1), 200))).map(toDeploymentView);
  }

  /** Readable names for authors and approvers ("user:<id>", "api_key:<id>"), for pages. */
  async actorLabels(refs: readonly string[]): Promise<Map<string, string>> {
    const labels = new Map<string, string>();
    for (const ref of new Set(refs)) {
      const [kind, id = ''] = ref.split(':', 2) as [string, string | undefined];
      if (kind === 'user') labels.set(ref, (await users.findUser(this.db, id))?.email ?? 'a removed user');
      else if (kind === 'api_key') {
        const key = await deploys.findApiKey(this.db, id);
        labels.set(ref, key ? `API key “${key.name}”` : 'a removed API key');
      } else labels.set(ref, ref);
    }
    return labels;
  }

  /** What `GET /deploy/<key>/bundle` serves: the current deployment, exactly as approved. */
  async publicBundle(publicKey: string): Promise<{ body: string; digest: string; approval: string; deploymentId: string } | null> {
    if (publicKey.length > 64) return null;
    const target = await deploys.findTargetByPublicKey(this.db, publicKey);
    if (!target?.current_deployment_id) return null;
    const deployment = await deploys.findDeployment(this.db, target.current_deployment_id);
    // Canonical JSON: the very bytes the digest was taken over (and that were stored).
    return deployment ? { body: canonicalJson(deployment.bundle), digest: deployment.digest, approval: deployment.approval, deploymentId: deployment.id } : null;
  }

  private async goLive(target: DeployTarget, expected: Expected, bundle: Bundle, approver: string, method: string, rollbackOf: string | null, user: Principal | null, meta: RequestMeta | null): Promise<DeploymentView> {
    const approval = await this.approvals.prepare(target, expected.digest, user, method, approver);
    return this.db.transaction().execute((trx) => this.commit(trx, target.id, expected, bundle, approver, method, rollbackOf, approval, meta, user));
  }

  /** Records the deployment and moves the target to it, if nothing changed since it was reviewed. */
  async commit(
    trx: Executor,
    targetId: string,
    expected: Expected,
    bundle: Bundle,
    approver: string,
    method: string,
    rollbackOf: string | null,
    approval: ApprovalDraft,
    meta: RequestMeta | null,
    user: Principal | null,
  ): Promise<DeploymentView> {
    const target = await deploys.findTarget(trx, targetId);
    if (!target) throw notFound(NO_TARGET.code, NO_TARGET.message);
    // The deployer reviewed against the deployment that was live then; if another landed since, theirs is stale.
    if (target.current_deployment_id !== expected.currentDeploymentId) {
      throw conflict('deploy_conflict', 'Someone else deployed this target at the same moment. Review what is live now.');
    }
    if (expected.pendingVersion !== null && target.pending_version !== expected.pendingVersion) {
      throw conflict('bundle_changed', 'What is pending changed after you reviewed it. Review the new summary and deploy again.');
    }
    const pending = await deploys.pendingChanges(trx, targetId);
    if (rollbackOf) {
      // Pending stays "what is live plus the changes not yet deployed", so the next summary is
      // exactly what would go out: the rolled-back changes leave the pending bundle too.
      let rebuilt = bundle;
      for (const c of pending) rebuilt = applyChange(rebuilt, c.entry_key, c.value);
      if (!(await deploys.swapPendingBundle(trx, targetId, target.pending_version, rebuilt))) {
        throw conflict('bundle_changed', 'What is pending changed while rolling back. Review and try again.');
      }
    }
    const deployed = rollbackOf ? [] : pending;
    const summary = rollbackOf ? [`Roll back to deployment ${rollbackOf}`] : deployed.map((c) => c.summary);
    const deployment: Deployment = {
      id: approval.id,
      target_id: targetId,
      bundle,
      digest: expected.digest,
      summary,
      approver,
      method,
      approval: approval.token,
      rollback_of: rollbackOf,
      created_at: approval.at,
    };
    await deploys.insertDeployment(trx, deployment);
    // Exactly one of two concurrent deploys moves the pointer; the other rolls back whole.
    if (!(await deploys.swapCurrentDeployment(trx, targetId, { pendingVersion: expected.pendingVersion, currentDeploymentId: expected.currentDeploymentId }, deployment.id))) {
      throw conflict('deploy_conflict', 'Someone else deployed this target at the same moment. Review what is live now.');
    }
    const last = deployed[deployed.length - 1];
    if (last) await deploys.markChangesDeployed(trx, targetId, last.id, deployment.id);
    await recordAudit(trx, approval.at, {
      type: 'deployment.created',
      actorUserId: user?.id ?? null,
      orgId: target.org_id,
      meta,
      details: { targetId, deploymentId: deployment.id, digest: deployment.digest, method, approver, rollbackOf, changes: summary.length },
    });
    return toDeploymentView(deployment);
  }
}
