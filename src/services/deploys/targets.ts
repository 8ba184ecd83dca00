import { randomUUID } from 'node:crypto';
import { randomToken } from '../../core/crypto.js';
import { conflict, forbidden, invalidInput, isTwofoldError } from '../../core/errors.js';
import type { DeployTarget, DeployTiming, Executor } from '../../store/index.js';
import { deploys, factors, organisations, users } from '../../store/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import { reauthCodeScope } from '../second-factor/delivered-code-strategy.js';
import type { SecondFactorVerifier } from '../second-factor/verifier.js';
import { isWithinTree, requireInTree } from '../tenancy.js';
import type { DeployAccess } from './access.js';
import type { DeployActor, DeployerCandidate, TargetView } from './types.js';
import type { Actor } from '../actor.js';
import { requireSudoAdmin } from '../step-up.js';
import type { Principal, SessionPrincipal } from '../principal.js';

const IRREVERSIBLE = 'Two-factor approval can never be switched off for a target. Create a new target instead.';

/** Deploy targets: creating, changing and listing them, and who may deploy each. */
export class DeployTargets {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: DeployAccess,
    private readonly verifier: SecondFactorVerifier,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async createTarget(by: Actor, orgId: string, input: { name: string; timing: DeployTiming; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    const actor = await requireSudoAdmin(this.deps, by);
    const name = checkName(input.name);
    const requireTwoFactor = input.requireTwoFactor === true;
    if (requireTwoFactor && input.timing !== 'manual') throw invalidInput('two_factor_needs_manual', 'Requiring 2FA needs manual timing: automatic targets go live without anyone approving.');
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, actor, orgId);
      const now = this.deps.clock();
      const target: DeployTarget = {
        id: randomUUID(),
        org_id: orgId,
        public_key: randomToken(18),
        name,
        timing: input.timing,
        require_two_factor: requireTwoFactor,
        pending_bundle: {},
        pending_version: 0,
        current_deployment_id: null,
        created_at: now,
        created_by: actor.id,
      };
      await deploys.insertTarget(trx, target);
      await recordAudit(trx, now, { type: 'deploy_target.created', actorUserId: actor.id, orgId, meta, details: { targetId: target.id, name, timing: input.timing, requireTwoFactor } });
      return this.access.view(trx, target);
    });
  }

  /** Every route that could switch the requirement off ends here, and is refused here. */
  async updateTarget(by: Actor, targetId: string, input: { name?: string | undefined; timing?: DeployTiming | undefined; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    const actor = await requireSudoAdmin(this.deps, by);
    try {
      return await this.changeSettings(actor, targetId, input, meta);
    } catch (error) {
      // The refusal rolled back with its transaction; it is still worth an audit record.
      if (isTwofoldError(error) && error.code === 'two_factor_irreversible') await this.recordRefusal(actor, targetId, 'two_factor_irreversible', meta);
      throw error;
    }
  }

  private async changeSettings(actor: Principal, targetId: string, input: { name?: string | undefined; timing?: DeployTiming | undefined; requireTwoFactor?: boolean | undefined }, meta: RequestMeta): Promise<TargetView> {
    return this.db.transaction().execute(async (trx) => {
      const target = await this.access.adminTarget(trx, actor, targetId);
      const protectedNow = target.require_two_factor;
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
      return this.access.view(trx, { ...target, name, timing, require_two_factor: requireTwoFactor });
    });
  }

  /** Audits a refused attempt to weaken a protected target (the refusal itself rolled back with its transaction). */
  private async recordRefusal(actor: Principal, targetId: string, reason: string, meta: RequestMeta): Promise<void> {
    const target = await deploys.findTarget(this.db, targetId);
    if (!target) return;
    await recordAudit(this.db, this.deps.clock(), { type: 'deploy_target.refused', actorUserId: actor.id, orgId: target.org_id, meta, details: { targetId, reason } });
  }

  async listTargets(actor: DeployActor, orgId: string | undefined): Promise<TargetView[]> {
    const rootId = orgId ?? (actor.kind === 'user' ? actor.user.org_id : actor.principal.orgId);
    await this.access.assertReader(actor, rootId);
    const orgIds = await organisations.subtreeIds(this.db, rootId);
    const targets = await deploys.listTargets(this.db, orgIds);
    return Promise.all(targets.map((t) => this.access.view(this.db, t)));
  }

  async getTarget(actor: DeployActor, targetId: string): Promise<TargetView> {
    const target = await this.access.readableTarget(actor, targetId);
    return this.access.view(this.db, target);
  }

  /**
   * The people an admin may pick as deployers: active, holding a second factor, in the target's
   * organisation or one above it (so they can see the target), and within the admin's own tree.
   * The same rules setDeployers enforces; this is the list the picker offers.
   */
  async deployerCandidates(by: Actor, targetId: string): Promise<DeployerCandidate[]> {
    const actor = await requireSudoAdmin(this.deps, by);
    const target = await this.access.adminTarget(this.db, actor, targetId);
    const reachable = new Set(await organisations.subtreeIds(this.db, actor.org_id));
    const orgIds = (await organisations.ancestorIds(this.db, target.org_id)).filter((id) => reachable.has(id));
    const people = await users.listUsers(this.db, { orgIds, limit: 500 });
    const candidates: DeployerCandidate[] = [];
    for (const person of people) {
      if (person.status !== 'active' || (await factors.countHeldFactors(this.db, person.id)) === 0) continue;
      candidates.push({ id: person.id, email: person.email, displayName: person.display_name });
    }
    return candidates;
  }

  /**
   * Only people with 2FA enrolled can be picked; for a protected target the editor proves a
   * current code from their own device, checked like any sign-in code. A text or email code
   * here is one the editor asked for to confirm it is them, in this session.
   */
  async setDeployers(
    editor: { user: Principal; session: SessionPrincipal },
    targetId: string,
    input: { userIds: readonly string[]; method?: string | undefined; code?: string | undefined },
    meta: RequestMeta,
  ): Promise<TargetView> {
    const actor = await requireSudoAdmin(this.deps, { via: 'session', user: editor.user, session: editor.session });
    const target = await this.access.adminTarget(this.db, actor, targetId);
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
      if (user.status !== 'active' || (await factors.countHeldFactors(this.db, user.id)) === 0) {
        throw invalidInput('deployer_without_two_factor', `${user.email} has no two-factor method; only enrolled people can deploy.`);
      }
    }
    const save = async (trx: Executor, method: string) => {
      await deploys.replaceDeployers(trx, targetId, userIds);
      await recordAudit(trx, this.deps.clock(), { type: 'deploy_target.deployers_changed', actorUserId: actor.id, orgId: target.org_id, meta, details: { targetId, deployers: userIds, method } });
      return this.access.view(trx, target);
    };
    if (!target.require_two_factor) return this.db.transaction().execute((trx) => save(trx, 'none'));
    if (!input.method || !input.code) throw forbidden('code_required', 'Enter a current code from your own device to change who may deploy.');
    if (input.method === 'backup_code') throw invalidInput('method_not_allowed', 'Use a code from your device, not a backup code.');
    return this.verifier.verify(actor, input.method, input.code, meta, 'deploy', (trx, proof) => save(trx, proof.method), (channel) => reauthCodeScope(editor.session.id, channel));
  }
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 80) throw invalidInput('name_invalid', 'Give the target a name of 1 to 80 characters.');
  return trimmed;
}
