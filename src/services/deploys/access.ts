import { forbidden, notFound } from '../../core/errors.js';
import type { DeployTarget, Executor } from '../../store/index.js';
import { deploys, factors, organisations, users } from '../../store/index.js';
import { holdsAdminRole } from '../accounts.js';
import type { ServiceDeps } from '../context.js';
import { isWithinTree, requireInTree } from '../tenancy.js';
import type { DeployActor, TargetView } from './types.js';
import { NO_TARGET, toDeploymentView } from './types.js';
import type { Principal } from '../principal.js';

/**
 * Who may see, change and administer a target, and the target as the API shows it. Every part
 * of the deploy service finds its target through here, so a target outside the actor's tree is
 * the same 404 everywhere.
 */
export class DeployAccess {
  constructor(private readonly deps: ServiceDeps) {}

  get db() {
    return this.deps.database.db;
  }

  async mayKnow(actor: DeployActor, target: DeployTarget): Promise<boolean> {
    if (actor.kind === 'user') return isWithinTree(this.db, actor.user, target.org_id);
    return (await organisations.ancestorIds(this.db, target.org_id)).includes(actor.principal.orgId);
  }

  async mayChange(user: Principal, target: DeployTarget): Promise<boolean> {
    if (await holdsAdminRole(this.db, user.id)) return true;
    return (await deploys.listDeployers(this.db, target.id)).includes(user.id);
  }

  /** A target in the admin's tree, for an admin already checked (requireSudoAdmin, before the transaction); 404 otherwise. */
  async adminTarget(db: Executor, admin: Principal, targetId: string): Promise<DeployTarget> {
    const target = targetId.length <= 64 ? await deploys.findTarget(db, targetId) : undefined;
    if (!target) throw notFound(NO_TARGET.code, NO_TARGET.message);
    await requireInTree(db, admin, target.org_id, NO_TARGET);
    return target;
  }

  /** Users of the target's organisation tree, or API keys of it (or above) holding `scope`. */
  async readableTarget(actor: DeployActor, targetId: string, scope?: string): Promise<DeployTarget> {
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

  async assertReader(actor: DeployActor, orgId: string): Promise<void> {
    if (actor.kind === 'user') {
      if (!(await isWithinTree(this.db, actor.user, orgId))) throw notFound('organisation_not_found', 'No such organisation.');
      return;
    }
    if (!(await organisations.ancestorIds(this.db, orgId)).includes(actor.principal.orgId)) throw notFound('organisation_not_found', 'No such organisation.');
    if (!actor.principal.scopes.includes('deployments:read')) throw forbidden('scope_missing', 'This API key lacks the deployments:read scope.');
  }

  async view(db: Executor, target: DeployTarget): Promise<TargetView> {
    const ids = await deploys.listDeployers(db, target.id);
    const deployers: TargetView['deployers'] = [];
    for (const id of ids) {
      const user = await users.findUser(db, id);
      if (user) deployers.push({ id, email: user.email, enrolled: (await factors.countHeldFactors(db, id)) > 0 });
    }
    const current = target.current_deployment_id ? await deploys.findDeployment(db, target.current_deployment_id) : undefined;
    return {
      id: target.id,
      orgId: target.org_id,
      name: target.name,
      timing: target.timing,
      requireTwoFactor: target.require_two_factor,
      bundleUrl: `${this.deps.settings.publicUrl}/deploy/${target.public_key}/bundle`,
      deployers,
      currentDeployment: current ? toDeploymentView(current) : null,
      pendingChanges: (await deploys.pendingChanges(db, target.id)).length,
    };
  }
}
