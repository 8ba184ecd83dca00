import type { Bundle } from '../../core/bundle.js';
import { bundleDigest } from '../../core/bundle.js';
import { conflict, forbidden, notFound } from '../../core/errors.js';
import type { DeployTarget } from '../../store/index.js';
import { deploys, factors } from '../../store/index.js';
import { holdsAdminRole } from '../accounts.js';
import type { DeployAccess } from './access.js';
import type { DeployActor, Expected } from './types.js';
import type { Principal } from '../principal.js';

/** A deploy as reviewed, checked and ready to go live (or to be approved with a code first). */
export interface Reviewed {
  target: DeployTarget;
  bundle: Bundle;
  expected: Expected;
  rollbackOf: string | null;
  /** The person who must enter a fresh code, or null when the target goes live without one. */
  approver: Principal | null;
}

/**
 * What Deploy Now checks before a code is sent and again before one is judged: the actor may
 * deploy this target, and `digest` is exactly what would go out now (the pending bundle, or the
 * earlier deployment rolled back to) and is not already live. On a protected target the actor
 * must be a listed, enrolled person; an API key never approves one.
 */
export async function reviewDeploy(access: DeployAccess, actor: DeployActor, targetId: string, input: { digest: string; rollbackTo?: string | undefined }): Promise<Reviewed> {
  const db = access.db;
  const target = await access.readableTarget(actor, targetId, 'deployments:write');
  const protectedTarget = target.require_two_factor;
  if (actor.kind === 'api_key') {
    // A key is something an app holds, not someone who can prove a fresh code.
    if (protectedTarget) throw forbidden('person_required', 'This target needs an authorised person to confirm each deploy with a current code; an API key cannot.');
  } else {
    const user = actor.user;
    const deployers = await deploys.listDeployers(db, targetId);
    if (protectedTarget) {
      if (!deployers.includes(user.id)) throw forbidden('not_deployer', 'You are not an authorised deployer of this target.');
      if ((await factors.countHeldFactors(db, user.id)) === 0) throw forbidden('deployer_not_enrolled', 'Set up two-factor authentication again before you deploy.');
    } else if (!deployers.includes(user.id) && !(await holdsAdminRole(db, user.id))) {
      throw forbidden('not_deployer', 'Only admins and deployers of this target can deploy.');
    }
  }

  let bundle: Bundle;
  let expected: Expected;
  const seen = { currentDeploymentId: target.current_deployment_id };
  if (input.rollbackTo !== undefined) {
    const earlier = input.rollbackTo.length <= 64 ? await deploys.findDeployment(db, input.rollbackTo) : undefined;
    if (!earlier || earlier.target_id !== targetId) throw notFound('deployment_not_found', 'No such deployment of this target.');
    bundle = earlier.bundle;
    expected = { digest: earlier.digest, pendingVersion: null, ...seen };
  } else {
    bundle = target.pending_bundle;
    expected = { digest: bundleDigest(bundle), pendingVersion: target.pending_version, ...seen };
  }
  if (input.digest !== expected.digest) throw conflict('bundle_changed', 'What is pending changed after you reviewed it. Review the new summary and deploy again.');
  const live = target.current_deployment_id ? await deploys.findDeployment(db, target.current_deployment_id) : undefined;
  if (live?.digest === expected.digest) {
    // Typically a second deployer confirming what the first just put live: telling them beats a duplicate deployment.
    throw conflict('deploy_conflict', `What you reviewed is already live (deployed ${new Date(live.created_at).toISOString()}). There is nothing new to deploy.`);
  }
  const approver = protectedTarget && actor.kind === 'user' ? actor.user : null;
  return { target, bundle, expected, rollbackOf: input.rollbackTo ?? null, approver };
}
