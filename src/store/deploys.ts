import type { Executor } from './database.js';
import type { Bundle, BundleValue } from '../core/bundle.js';
import { canonicalJson } from '../core/bundle.js';
import type { ApiKey, DeployChange, DeployChangeRow, DeployTarget, DeployTargetRow, Deployment, DeploymentRow, SigningKey } from './schema.js';

// Bundles and values are stored as canonical JSON, the bytes their digest is taken over.
function targetOf(row: DeployTargetRow): DeployTarget {
  return { ...row, pending_bundle: JSON.parse(row.pending_bundle) as Bundle, require_two_factor: Number(row.require_two_factor) === 1 };
}
function changeOf(row: DeployChangeRow): DeployChange {
  return { ...row, value: row.value === null ? null : (JSON.parse(row.value) as BundleValue) };
}
function deploymentOf(row: DeploymentRow): Deployment {
  return { ...row, bundle: JSON.parse(row.bundle) as Bundle, summary: JSON.parse(row.summary) as string[] };
}

/** A signing key as the services see it: the public JWK decoded (the private one stays sealed). */
export type StoredSigningKey = Omit<SigningKey, 'public_jwk'> & { public_jwk: Record<string, unknown> };

export async function insertSigningKey(db: Executor, key: StoredSigningKey): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({ ...key, public_jwk: JSON.stringify(key.public_jwk) })
    .execute();
}

/** Retires every current key; their approvals keep verifying for the grace period. */
export async function retireSigningKeys(db: Executor, nowMs: number): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: nowMs }).where('retired_at', 'is', null).execute();
}

export async function listSigningKeys(db: Executor): Promise<StoredSigningKey[]> {
  const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute();
  return rows.map((row) => ({ ...row, public_jwk: JSON.parse(row.public_jwk) as Record<string, unknown> }));
}

/** An API key as the services see it: its scopes decoded from the row's JSON text. */
export type StoredApiKey = Omit<ApiKey, 'scopes'> & { scopes: string[] };

function apiKeyOf(row: ApiKey): StoredApiKey {
  return { ...row, scopes: JSON.parse(row.scopes) as string[] };
}

export async function insertApiKey(db: Executor, key: StoredApiKey): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({ ...key, scopes: JSON.stringify(key.scopes) })
    .execute();
}

export async function findApiKeyByHash(db: Executor, keyHash: string): Promise<StoredApiKey | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return row && apiKeyOf(row);
}

export async function listApiKeys(db: Executor, orgId: string): Promise<StoredApiKey[]> {
  return (await db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).orderBy('created_at').execute()).map(apiKeyOf);
}

export async function findApiKey(db: Executor, id: string): Promise<StoredApiKey | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row && apiKeyOf(row);
}

export async function revokeApiKey(db: Executor, id: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ revoked_at: nowMs }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touchApiKey(db: Executor, id: string, nowMs: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: nowMs }).where('id', '=', id).execute();
}

export async function insertTarget(db: Executor, target: DeployTarget): Promise<void> {
  await db
    .insertInto('deploy_targets')
    .values({ ...target, pending_bundle: canonicalJson(target.pending_bundle), require_two_factor: target.require_two_factor ? 1 : 0 })
    .execute();
}

export async function findTarget(db: Executor, id: string): Promise<DeployTarget | undefined> {
  const row = await db.selectFrom('deploy_targets').selectAll().where('id', '=', id).executeTakeFirst();
  return row && targetOf(row);
}

export async function findTargetByPublicKey(db: Executor, publicKey: string): Promise<DeployTarget | undefined> {
  const row = await db.selectFrom('deploy_targets').selectAll().where('public_key', '=', publicKey).executeTakeFirst();
  return row && targetOf(row);
}

export async function listTargets(db: Executor, orgIds: readonly string[]): Promise<DeployTarget[]> {
  if (orgIds.length === 0) return [];
  return (await db.selectFrom('deploy_targets').selectAll().where('org_id', 'in', orgIds).orderBy('created_at').execute()).map(targetOf);
}

/** Irreversibility lives in the statement too: no update here can turn the requirement off. */
export async function updateTargetSettings(db: Executor, id: string, change: { name: string; timing: DeployTarget['timing']; requireTwoFactor: boolean }): Promise<void> {
  await db
    .updateTable('deploy_targets')
    .set((eb) => ({
      name: change.name,
      timing: change.timing,
      require_two_factor: change.requireTwoFactor ? 1 : eb.ref('require_two_factor'),
    }))
    .where('id', '=', id)
    .execute();
}

/** Applies a change to the pending bundle if nobody else changed it since `version` was read. */
export async function swapPendingBundle(db: Executor, id: string, version: number, bundle: Bundle): Promise<boolean> {
  const r = await db
    .updateTable('deploy_targets')
    .set({ pending_bundle: canonicalJson(bundle), pending_version: version + 1 })
    .where('id', '=', id)
    .where('pending_version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Makes a deployment current, only if the pending bundle is still the reviewed version and the
 * current deployment is still the one the deployer saw: of two concurrent deploys, one wins.
 */
export async function swapCurrentDeployment(db: Executor, id: string, expected: { pendingVersion: number | null; currentDeploymentId: string | null }, deploymentId: string): Promise<boolean> {
  let q = db.updateTable('deploy_targets').set({ current_deployment_id: deploymentId }).where('id', '=', id);
  q = expected.currentDeploymentId === null ? q.where('current_deployment_id', 'is', null) : q.where('current_deployment_id', '=', expected.currentDeploymentId);
  if (expected.pendingVersion !== null) q = q.where('pending_version', '=', expected.pendingVersion);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function replacePendingBundle(db: Executor, id: string, bundle: Bundle): Promise<void> {
  await db
    .updateTable('deploy_targets')
    .set((eb) => ({ pending_bundle: canonicalJson(bundle), pending_version: eb('pending_version', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function listDeployers(db: Executor, targetId: string): Promise<string[]> {
  return (await db.selectFrom('deploy_deployers').select('user_id').where('target_id', '=', targetId).execute()).map((r) => r.user_id);
}

export async function replaceDeployers(db: Executor, targetId: string, userIds: readonly string[]): Promise<void> {
  await db.deleteFrom('deploy_deployers').where('target_id', '=', targetId).execute();
  if (userIds.length > 0) await db.insertInto('deploy_deployers').values(userIds.map((user_id) => ({ target_id: targetId, user_id }))).execute();
}

export async function insertChange(db: Executor, change: Omit<DeployChange, 'id'>): Promise<void> {
  await db
    .insertInto('deploy_changes')
    .values({ ...change, value: change.value === null ? null : canonicalJson(change.value) })
    .execute();
}

export async function pendingChanges(db: Executor, targetId: string): Promise<DeployChange[]> {
  return (await db.selectFrom('deploy_changes').selectAll().where('target_id', '=', targetId).where('deployment_id', 'is', null).orderBy('id').execute()).map(changeOf);
}

export async function markChangesDeployed(db: Executor, targetId: string, upToId: number, deploymentId: string): Promise<void> {
  await db.updateTable('deploy_changes').set({ deployment_id: deploymentId }).where('target_id', '=', targetId).where('deployment_id', 'is', null).where('id', '<=', upToId).execute();
}

export async function insertDeployment(db: Executor, deployment: Deployment): Promise<void> {
  await db
    .insertInto('deployments')
    .values({ ...deployment, bundle: canonicalJson(deployment.bundle), summary: JSON.stringify(deployment.summary) })
    .execute();
}

export async function findDeployment(db: Executor, id: string): Promise<Deployment | undefined> {
  const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  return row && deploymentOf(row);
}

export async function listDeployments(db: Executor, targetId: string, limit: number): Promise<Deployment[]> {
  return (await db.selectFrom('deployments').selectAll().where('target_id', '=', targetId).orderBy('created_at', 'desc').limit(limit).execute()).map(deploymentOf);
}
