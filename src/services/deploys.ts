import { randomUUID } from 'node:crypto';
import type { Bundle, BundleValue } from '../core/bundle.js';
import { ENTRY_KEY_PATTERN, MAX_BUNDLE_BYTES, applyChange, bundleDigest, canonicalJson } from '../core/bundle.js';
import { randomToken } from '../core/crypto.js';
import { conflict, forbidden, invalidInput, notFound } from '../core/errors.js';
import type { DeployTarget, DeployTiming, Deployment, Executor, User } from '../store/index.js';
import { deploys, factors, organisations, users } from '../store/index.js';
import { holdsAdminRole } from './accounts.js';
import type { ApiPrincipal } from './api-keys.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { SecondFactorVerifier } from './second-factor/verifier.js';
import type { SigningKeyService } from './signing-keys.js';
import { isWithinTree, requireAdminOf } from './tenancy.js';

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
interface Expected {
  digest: string;
  pendingVersion: number | null;
  currentDeploymentId: string | null;
}

export const APPROVAL_TYP = 'twofold-deploy-approval+jwt';
const NO_TARGET = { code: 'deploy_target_not_found', message: 'No such deploy target.' } as const;
const IRREVERSIBLE = 'Two-factor approval can never be switched off for a target. Create a new target instead.';

/**
 * Deploy targets and their deployments. A protected target (require 2FA) only goes live when an
 * authorised, enrolled person enters a fresh code against the exact bundle they reviewed; the
 * result is signed so a pipeline can check it offline against the published JWKS.
 */
export class DeployService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly verifier: SecondFactorVerifier,
    private readonly signingKeys: SigningKeyService,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async createTarget(actor: User, orgId: string, input: { name: string; timing: DeployTiming; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    const name = checkName(input.name);
    const requireTwoFactor = input.requireTwoFactor === true;
    if (requireTwoFactor && input.timing !== 'manual') throw invalidInput('two_factor_needs_manual', 'Requiring 2FA needs manual timing: automatic targets go live without anyone approving.');
    return this.db.transaction().execute(async (trx) => {
      await requireAdminOf(trx, actor, orgId);
      const now = this.deps.clock();
      const target: DeployTarget = {
        id: randomUUID(),
        org_id: orgId,
        public_key: randomToken(18),
        name,
        timing: input.timing,
        require_two_factor: requireTwoFactor ? 1 : 0,
        pending_bundle: '{}',
        pending_version: 0,
        current_deployment_id: null,
        created_at: now,
        created_by: actor.id,
      };
      await deploys.insertTarget(trx, target);
      await recordAudit(trx, now, { type: 'deploy_target.created', actorUserId: actor.id, orgId, meta, details: { targetId: target.id, name, timing: input.timing, requireTwoFactor } });
      return this.view(trx, target);
    });
  }

  /** Every route that could switch the requirement off ends here, and is refused here. */
  async updateTarget(actor: User, targetId: string, input: { name?: string | undefined; timing?: DeployTiming | undefined; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    return this.db.transaction().execute(async (trx) => {
      const target = await this.adminTarget(trx, actor, targetId);
      const protectedNow = target.require_two_factor === 1;
      const timing = input.timing ?? target.timing;
      const requireTwoFactor = input.requireTwoFactor ?? protectedNow;
      if (protectedNow && (!requireTwoFactor || timing !== 'manual')) {
        throw conflict('two_factor_irreversible', IRREVERSIBLE);
      }
      if (requireTwoFactor && timing !== 'manual') throw invalidInput('two_factor_needs_manual', 'Requiring 2FA needs manual timing.');
      const name = input.name === undefined ? target.name : checkName(input.name);
      await deploys.updateTargetSettings(trx, targetId, { name, timing, requireTwoFactor });
      await recordAudit(trx, this.deps.clock(), {
        type: 'deploy_target.changed',
        actorUserId: actor.id,
        orgId: target.org_id,
        meta,
        details: { targetId, before: { name: target.name, timing: target.timing, requireTwoFactor: protectedNow }, after: { name, timing, requireTwoFactor } },
      });
      return this.view(trx, { ...target, name, timing, require_two_factor: requireTwoFactor ? 1 : 0 });
    });
  }

  /** Audits a refused attempt to weaken a protected target (the refusal itself rolled back with its transaction). */
  async recordRefusal(actor: User, targetId: string, reason: string, meta: RequestMeta): Promise<void> {
    const target = await deploys.findTarget(this.db, targetId);
    if (!target) return;
    await recordAudit(this.db, this.deps.clock(), { type: 'deploy_target.refused', actorUserId: actor.id, orgId: target.org_id, meta, details: { targetId, reason } });
  }

  async listTargets(actor: DeployActor, orgId: string | undefined): Promise<TargetView[]> {
    const rootId = orgId ?? (actor.kind === 'user' ? actor.user.org_id : actor.principal.orgId);
    await this.assertReader(actor, rootId);
    const orgIds = await organisations.subtreeIds(this.db, rootId);
    const targets = await deploys.listTargets(this.db, orgIds);
    return Promise.all(targets.map((t) => this.view(this.db, t)));
  }

  async getTarget(actor: DeployActor, targetId: string): Promise<TargetView> {
    const target = await this.readableTarget(actor, targetId);
    return this.view(this.db, target);
  }

  /**
   * Only people with 2FA enrolled can be picked; for a protected target the editor proves a
   * current code from their own device, checked like any sign-in code.
   */
  async setDeployers(actor: User, targetId: string, input: { userIds: readonly string[]; method?: string | undefined; code?: string | undefined }, meta: RequestMeta): Promise<TargetView> {
    const target = await this.adminTarget(this.db, actor, targetId);
    const userIds = [...new Set(input.userIds)];
    if (userIds.length > 50) throw invalidInput('too_many_deployers', 'At most 50 deployers per target.');
    for (const id of userIds) {
      const user = id.length <= 64 ? await users.findUser(this.db, id) : undefined;
      if (!user || !(await isWithinTree(this.db, actor, user.org_id))) {
        throw invalidInput('deployer_not_found', `No such user: ${id}.`);
      }
      // A deployer must be able to see the target: someone in a sibling organisation never could.
      if (!(await isWithinTree(this.db, user, target.org_id))) {
        throw invalidInput('deployer_outside_organisation', `${user.email} is not in this target's organisation or one above it.`);
      }
      if (user.status !== 'active' || (await factors.countActiveFactors(this.db, user.id)) === 0) {
        throw invalidInput('deployer_without_two_factor', `${user.email} has no two-factor method; only enrolled people can deploy.`);
      }
    }
    const save = async (trx: Executor, method: string) => {
      await deploys.replaceDeployers(trx, targetId, userIds);
      await recordAudit(trx, this.deps.clock(), { type: 'deploy_target.deployers_changed', actorUserId: actor.id, orgId: target.org_id, meta, details: { targetId, deployers: userIds, method } });
      return this.view(trx, target);
    };
    if (target.require_two_factor !== 1) return this.db.transaction().execute((trx) => save(trx, 'none'));
    if (!input.method || !input.code) throw forbidden('code_required', 'Enter a current code from your own device to change who may deploy.');
    if (input.method === 'backup_code') throw invalidInput('method_not_allowed', 'Use a code from your device, not a backup code.');
    return this.verifier.verify(actor, input.method, input.code, meta, 'deploy', (trx, proof) => save(trx, proof.method));
  }

  async addChange(actor: DeployActor, targetId: string, input: { key: string; value?: unknown; summary: string }, meta: RequestMeta | null): Promise<{ pendingVersion: number; digest: string; deployment: DeploymentView | null }> {
    const target = await this.readableTarget(actor, targetId, 'changes:write');
    if (actor.kind === 'user' && !(await this.mayChange(actor.user, target))) throw forbidden('not_deployer', 'Only admins and deployers of this target can change it.');
    if (!ENTRY_KEY_PATTERN.test(input.key)) throw invalidInput('entry_key_invalid', 'An entry key is 1-200 letters, digits and . _ : / - characters.');
    const summary = input.summary.trim();
    if (summary === '' || summary.length > 200 || /[\r\n]/.test(summary)) throw invalidInput('summary_invalid', 'A change needs a one-line summary of at most 200 characters.');
    const value = input.value === undefined ? null : (input.value as BundleValue);
    const author = actorRef(actor);
    const user = actor.kind === 'user' ? actor.user : null;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await deploys.findTarget(this.db, targetId);
      if (!current) throw notFound(NO_TARGET.code, NO_TARGET.message);
      const next = applyChange(JSON.parse(current.pending_bundle) as Bundle, input.key, value);
      const serialised = canonicalJson(next);
      if (Buffer.byteLength(serialised) > MAX_BUNDLE_BYTES) throw invalidInput('bundle_too_large', 'The bundle would exceed 1 MiB.');
      const digest = bundleDigest(next);
      const pendingVersion = current.pending_version + 1;
      // Automatic targets go live at once; the author is the approver and no code is asked. The
      // change and its deployment share one transaction, so a concurrent change can never leave
      // a recorded change behind with a refused deployment.
      const approval = current.timing === 'automatic' ? await this.prepareApproval(current, digest, user, 'none', author) : null;
      const applied = await this.db.transaction().execute(async (trx) => {
        if (!(await deploys.swapPendingBundle(trx, targetId, current.pending_version, serialised))) return null;
        const now = this.deps.clock();
        await deploys.insertChange(trx, { target_id: targetId, entry_key: input.key, value: value === null ? null : canonicalJson(value), summary, author, created_at: now, deployment_id: null });
        await recordAudit(trx, now, { type: 'deploy_change.added', actorUserId: user?.id ?? null, orgId: target.org_id, meta, details: { targetId, key: input.key, summary, author } });
        if (!approval) return { deployment: null };
        const live = await deploys.findTarget(trx, targetId);
        const expected = { digest, pendingVersion, currentDeploymentId: live?.current_deployment_id ?? null };
        return { deployment: await this.commitDeployment(trx, targetId, expected, next, author, 'none', null, approval, meta, user) };
      });
      if (!applied) continue;
      return { pendingVersion, digest, deployment: applied.deployment };
    }
    throw conflict('target_busy', 'The target is changing too fast; try again.');
  }

  async preview(actor: DeployActor, targetId: string): Promise<DeployPreview> {
    const target = await this.readableTarget(actor, targetId, 'deployments:read');
    const changes = await deploys.pendingChanges(this.db, targetId);
    const digest = bundleDigest(JSON.parse(target.pending_bundle) as Bundle);
    const current = target.current_deployment_id ? await deploys.findDeployment(this.db, target.current_deployment_id) : undefined;
    return {
      target: await this.view(this.db, target),
      changes: changes.map((c) => ({ id: c.id, key: c.entry_key, summary: c.summary, author: c.author, createdAt: new Date(c.created_at).toISOString() })),
      digest,
      pendingVersion: target.pending_version,
      unchanged: current?.digest === digest,
    };
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
      if (target && (await this.mayKnow(actor, target))) {
        const code = error instanceof Error && 'code' in error ? String((error as { code: unknown }).code) : 'error';
        const details = { targetId, reason: code, digest: input.digest.slice(0, 80), ...(actor.kind === 'api_key' ? { apiKeyId: actor.principal.keyId } : {}) };
        await recordAudit(this.db, this.deps.clock(), { type: 'deployment.refused', actorUserId: actor.kind === 'user' ? actor.user.id : null, orgId: target.org_id, meta, details });
      }
      throw error;
    }
  }

  private async deployChecked(actor: DeployActor, targetId: string, input: DeployInput, meta: RequestMeta): Promise<DeploymentView> {
    const target = await this.readableTarget(actor, targetId, 'deployments:write');
    const protectedTarget = target.require_two_factor === 1;
    if (actor.kind === 'api_key') {
      // A key is something an app holds, not someone who can prove a fresh code.
      if (protectedTarget) throw forbidden('person_required', 'This target needs an authorised person to confirm each deploy with a current code; an API key cannot.');
    } else {
      const user = actor.user;
      const deployers = await deploys.listDeployers(this.db, targetId);
      if (protectedTarget) {
        if (!deployers.includes(user.id)) throw forbidden('not_deployer', 'You are not an authorised deployer of this target.');
        if ((await factors.countActiveFactors(this.db, user.id)) === 0) throw forbidden('deployer_not_enrolled', 'Set up two-factor authentication again before you deploy.');
      } else if (!deployers.includes(user.id) && !(await holdsAdminRole(this.db, user.id))) {
        throw forbidden('not_deployer', 'Only admins and deployers of this target can deploy.');
      }
    }

    let bundle: Bundle;
    let expected: Expected;
    const seen = { currentDeploymentId: target.current_deployment_id };
    if (input.rollbackTo !== undefined) {
      const earlier = input.rollbackTo.length <= 64 ? await deploys.findDeployment(this.db, input.rollbackTo) : undefined;
      if (!earlier || earlier.target_id !== targetId) throw notFound('deployment_not_found', 'No such deployment of this target.');
      bundle = JSON.parse(earlier.bundle) as Bundle;
      expected = { digest: earlier.digest, pendingVersion: null, ...seen };
    } else {
      bundle = JSON.parse(target.pending_bundle) as Bundle;
      expected = { digest: bundleDigest(bundle), pendingVersion: target.pending_version, ...seen };
    }
    if (input.digest !== expected.digest) throw conflict('bundle_changed', 'What is pending changed after you reviewed it. Review the new summary and deploy again.');
    const live = target.current_deployment_id ? await deploys.findDeployment(this.db, target.current_deployment_id) : undefined;
    if (live?.digest === expected.digest) {
      // Typically a second deployer confirming what the first just put live: telling them beats a duplicate deployment.
      throw conflict('deploy_conflict', `What you reviewed is already live (deployed ${new Date(live.created_at).toISOString()}). There is nothing new to deploy.`);
    }

    const rollbackOf = input.rollbackTo ?? null;
    if (!protectedTarget || actor.kind === 'api_key') {
      return this.goLive(target, expected, bundle, actorRef(actor), 'none', rollbackOf, actor.kind === 'user' ? actor.user : null, meta);
    }
    const user = actor.user;
    if (!input.method || !input.code) throw forbidden('code_required', 'Enter a current code to deploy to this target.');
    if (input.method === 'backup_code') throw invalidInput('method_not_allowed', 'Deploys need a code from your device, not a backup code.');
    const method = input.method;
    const approval = await this.prepareApproval(target, expected.digest, user, method);
    return this.verifier.verify(user, method, input.code, meta, 'deploy', (trx) => this.commitDeployment(trx, target.id, expected, bundle, `user:${user.id}`, method, rollbackOf, approval, meta, user));
  }

  async history(actor: DeployActor, targetId: string, limit = 50): Promise<DeploymentView[]> {
    await this.readableTarget(actor, targetId, 'deployments:read');
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
    return deployment ? { body: deployment.bundle, digest: deployment.digest, approval: deployment.approval, deploymentId: deployment.id } : null;
  }

  private async goLive(target: DeployTarget, expected: Expected, bundle: Bundle, approver: string, method: string, rollbackOf: string | null, user: User | null, meta: RequestMeta | null): Promise<DeploymentView> {
    const approval = await this.prepareApproval(target, expected.digest, user, method, approver);
    return this.db.transaction().execute((trx) => this.commitDeployment(trx, target.id, expected, bundle, approver, method, rollbackOf, approval, meta, user));
  }

  /** Signed before the transaction: on SQLite the signing key cannot be read while one is open. */
  private async prepareApproval(target: DeployTarget, digest: string, user: User | null, method: string, approver = user ? `user:${user.id}` : 'system'): Promise<{ id: string; at: number; token: string }> {
    const id = randomUUID();
    const at = this.deps.clock();
    const token = await this.signingKeys.sign(
      {
        iss: this.deps.settings.publicUrl,
        aud: 'twofold:deploy',
        sub: approver,
        jti: id,
        iat: Math.floor(at / 1000),
        // A verifier must check the target and that it required a code: one key signs every
        // target's approvals, so an automatic target's approval must not pass for a protected one.
        target: { id: target.id, name: target.name, bundleUrl: `${this.deps.settings.publicUrl}/deploy/${target.public_key}/bundle`, requireTwoFactor: target.require_two_factor === 1 },
        deployment: id,
        digest,
        approver: user ? { id: user.id, email: user.email } : { id: approver },
        method,
      },
      APPROVAL_TYP,
    );
    return { id, at, token };
  }

  private async commitDeployment(
    trx: Executor,
    targetId: string,
    expected: Expected,
    bundle: Bundle,
    approver: string,
    method: string,
    rollbackOf: string | null,
    approval: { id: string; at: number; token: string },
    meta: RequestMeta | null,
    user: User | null,
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
      for (const c of pending) rebuilt = applyChange(rebuilt, c.entry_key, c.value === null ? null : (JSON.parse(c.value) as BundleValue));
      if (!(await deploys.swapPendingBundle(trx, targetId, target.pending_version, canonicalJson(rebuilt)))) {
        throw conflict('bundle_changed', 'What is pending changed while rolling back. Review and try again.');
      }
    }
    const deployed = rollbackOf ? [] : pending;
    const summary = rollbackOf ? [`Roll back to deployment ${rollbackOf}`] : deployed.map((c) => c.summary);
    const deployment: Deployment = {
      id: approval.id,
      target_id: targetId,
      bundle: canonicalJson(bundle),
      digest: expected.digest,
      summary: JSON.stringify(summary),
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

  private async mayKnow(actor: DeployActor, target: DeployTarget): Promise<boolean> {
    if (actor.kind === 'user') return isWithinTree(this.db, actor.user, target.org_id);
    return (await organisations.ancestorIds(this.db, target.org_id)).includes(actor.principal.orgId);
  }

  private async mayChange(user: User, target: DeployTarget): Promise<boolean> {
    if (await holdsAdminRole(this.db, user.id)) return true;
    return (await deploys.listDeployers(this.db, target.id)).includes(user.id);
  }

  private async adminTarget(db: Executor, actor: User, targetId: string): Promise<DeployTarget> {
    const target = targetId.length <= 64 ? await deploys.findTarget(db, targetId) : undefined;
    if (!target) throw notFound(NO_TARGET.code, NO_TARGET.message);
    await requireAdminOf(db, actor, target.org_id, NO_TARGET);
    return target;
  }

  /** Users of the target's organisation tree, or API keys of it (or above) holding `scope`. */
  private async readableTarget(actor: DeployActor, targetId: string, scope?: string): Promise<DeployTarget> {
    const target = targetId.length <= 64 ? await deploys.findTarget(this.db, targetId) : undefined;
    if (!target) throw notFound(NO_TARGET.code, NO_TARGET.message);
    if (actor.kind === 'user') {
      if (!(await isWithinTree(this.db, actor.user, target.org_id))) throw notFound(NO_TARGET.code, NO_TARGET.message);
      return target;
    }
    const chain = await organisations.ancestorIds(this.db, target.org_id);
    if (!chain.includes(actor.principal.orgId)) throw notFound(NO_TARGET.code, NO_TARGET.message);
    if (scope && !actor.principal.scopes.includes(scope)) throw forbidden('scope_missing', `This API key lacks the ${scope} scope.`);
    return target;
  }

  private async assertReader(actor: DeployActor, orgId: string): Promise<void> {
    if (actor.kind === 'user') {
      if (!(await isWithinTree(this.db, actor.user, orgId))) throw notFound('organisation_not_found', 'No such organisation.');
      return;
    }
    if (!(await organisations.ancestorIds(this.db, orgId)).includes(actor.principal.orgId)) throw notFound('organisation_not_found', 'No such organisation.');
    if (!actor.principal.scopes.includes('deployments:read')) throw forbidden('scope_missing', 'This API key lacks the deployments:read scope.');
  }

  private async view(db: Executor, target: DeployTarget): Promise<TargetView> {
    const ids = await deploys.listDeployers(db, target.id);
    const deployers: TargetView['deployers'] = [];
    for (const id of ids) {
      const user = await users.findUser(db, id);
      if (user) deployers.push({ id, email: user.email, enrolled: (await factors.countActiveFactors(db, id)) > 0 });
    }
    const current = target.current_deployment_id ? await deploys.findDeployment(db, target.current_deployment_id) : undefined;
    return {
      id: target.id,
      orgId: target.org_id,
      name: target.name,
      timing: target.timing,
      requireTwoFactor: target.require_two_factor === 1,
      bundleUrl: `${this.deps.settings.publicUrl}/deploy/${target.public_key}/bundle`,
      deployers,
      currentDeployment: current ? toDeploymentView(current) : null,
      pendingChanges: (await deploys.pendingChanges(db, target.id)).length,
    };
  }
}

function actorRef(actor: DeployActor): string {
  return actor.kind === 'user' ? `user:${actor.user.id}` : `api_key:${actor.principal.keyId}`;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 80) throw invalidInput('name_invalid', 'Give the target a name of 1 to 80 characters.');
  return trimmed;
}

function toDeploymentView(d: Deployment): DeploymentView {
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

