import { sql } from 'kysely';
import type { ChallengeTrigger, TwoFactorMode } from '../core/policy.js';
import type { Executor } from './database.js';
import type { OrganisationPolicyRow } from './schema.js';

/** An organisation's own policy, decoded: what the row's JSON text and 0/1 flags mean. */
export interface StoredOrganisationPolicy {
  orgId: string;
  mode: TwoFactorMode;
  appliesToSubOrganisations: boolean;
  triggers: ChallengeTrigger[];
  allowedMethods: string[];
  trustBrowserDays: number;
  requirePhishingResistant: boolean;
  updatedAt: number;
  updatedBy: string | null;
}

export interface StoredRolePolicy {
  roleId: string;
  requireTwoFactor: boolean;
  /** Everyone holding the role finishes the second step with a security key or passkey. */
  requirePhishingResistant: boolean;
  updatedAt: number;
  updatedBy: string | null;
}

export interface ChainLink {
  orgId: string;
  orgName: string;
  /** Null where the organisation has no policy of its own. */
  policy: StoredOrganisationPolicy | null;
}

function organisationPolicyOf(row: OrganisationPolicyRow): StoredOrganisationPolicy {
  return {
    orgId: row.org_id,
    mode: row.mode as TwoFactorMode,
    appliesToSubOrganisations: Number(row.applies_to_sub_organisations) === 1,
    triggers: JSON.parse(row.triggers) as ChallengeTrigger[],
    allowedMethods: JSON.parse(row.allowed_methods) as string[],
    trustBrowserDays: Number(row.trust_browser_days),
    requirePhishingResistant: Number(row.require_phishing_resistant) === 1,
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
  };
}

/** Guards against a cycle in parent links: no real tree is this deep. */
const MAX_DEPTH = 64;

/** The organisation and its ancestors, root first, each with its own policy if it has one. */
export async function policyChain(db: Executor, orgId: string): Promise<ChainLink[]> {
  return (await policyChains(db, [orgId])).get(orgId) ?? [];
}

/**
 * policyChain for several organisations in one statement (the admin user list's page names up
 * to 200): one walk up the tree from all of them, each row tagged with the organisation it
 * started from. An unknown id has no entry.
 */
export async function policyChains(db: Executor, orgIds: readonly string[]): Promise<Map<string, ChainLink[]>> {
  const chains = new Map<string, ChainLink[]>();
  if (orgIds.length === 0) return chains;
  const rows = await db
    .withRecursive('ancestors(start_id, id, name, parent_id, depth)', (qb) =>
      qb
        .selectFrom('organisations')
        .select(['id as start_id', 'id', 'name', 'parent_id', sql<number>`0`.as('depth')])
        .where('id', 'in', [...new Set(orgIds)])
        .unionAll((q) =>
          q
            .selectFrom('organisations as o')
            .innerJoin('ancestors', 'ancestors.parent_id', 'o.id')
            .select(['ancestors.start_id', 'o.id', 'o.name', 'o.parent_id', sql<number>`ancestors.depth + 1`.as('depth')])
            .where('ancestors.depth', '<', MAX_DEPTH),
        ),
    )
    .selectFrom('ancestors')
    .leftJoin('organisation_policies as p', 'p.org_id', 'ancestors.id')
    .select([
      'ancestors.start_id as startId',
      'ancestors.id as orgId',
      'ancestors.name as orgName',
      'ancestors.depth as depth',
      'p.org_id',
      'p.mode',
      'p.applies_to_sub_organisations',
      'p.triggers',
      'p.allowed_methods',
      'p.trust_browser_days',
      'p.require_phishing_resistant',
      'p.updated_at',
      'p.updated_by',
    ])
    .orderBy('startId')
    .orderBy('depth', 'desc')
    .execute();
  for (const r of rows) {
    const link: ChainLink = {
      orgId: r.orgId,
      orgName: r.orgName,
      policy:
        r.org_id === null || r.mode === null
          ? null
          : organisationPolicyOf({
              org_id: r.org_id,
              mode: r.mode,
              applies_to_sub_organisations: Number(r.applies_to_sub_organisations),
              triggers: r.triggers ?? '[]',
              allowed_methods: r.allowed_methods ?? '[]',
              trust_browser_days: Number(r.trust_browser_days),
              require_phishing_resistant: Number(r.require_phishing_resistant),
              updated_at: Number(r.updated_at),
              updated_by: r.updated_by,
            }),
    };
    const chain = chains.get(r.startId);
    if (chain) chain.push(link);
    else chains.set(r.startId, [link]);
  }
  return chains;
}

export async function findOrganisationPolicy(db: Executor, orgId: string): Promise<StoredOrganisationPolicy | undefined> {
  const row = await db.selectFrom('organisation_policies').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  return row && organisationPolicyOf(row);
}

export async function upsertOrganisationPolicy(db: Executor, policy: StoredOrganisationPolicy): Promise<void> {
  const row: OrganisationPolicyRow = {
    org_id: policy.orgId,
    mode: policy.mode,
    applies_to_sub_organisations: policy.appliesToSubOrganisations ? 1 : 0,
    triggers: JSON.stringify(policy.triggers),
    allowed_methods: JSON.stringify(policy.allowedMethods),
    trust_browser_days: policy.trustBrowserDays,
    require_phishing_resistant: policy.requirePhishingResistant ? 1 : 0,
    updated_at: policy.updatedAt,
    updated_by: policy.updatedBy,
  };
  const { org_id: _key, ...update } = row;
  await db
    .insertInto('organisation_policies')
    .values(row)
    .onConflict((oc) => oc.column('org_id').doUpdateSet(update))
    .execute();
}

export async function findRolePolicy(db: Executor, roleId: string): Promise<StoredRolePolicy | undefined> {
  const row = await db.selectFrom('role_policies').selectAll().where('role_id', '=', roleId).executeTakeFirst();
  return (
    row && {
      roleId: row.role_id,
      requireTwoFactor: Number(row.require_two_factor) === 1,
      requirePhishingResistant: Number(row.require_phishing_resistant) === 1,
      updatedAt: Number(row.updated_at),
      updatedBy: row.updated_by,
    }
  );
}

export async function setRoleRequirement(db: Executor, policy: StoredRolePolicy): Promise<void> {
  const row = {
    role_id: policy.roleId,
    require_two_factor: policy.requireTwoFactor ? 1 : 0,
    require_phishing_resistant: policy.requirePhishingResistant ? 1 : 0,
    updated_at: policy.updatedAt,
    updated_by: policy.updatedBy,
  };
  const { role_id: _key, ...update } = row;
  await db
    .insertInto('role_policies')
    .values(row)
    .onConflict((oc) => oc.column('role_id').doUpdateSet(update))
    .execute();
}

/** Policies of the roles a user holds directly or through a group (roles without one are left out). */
export async function rolePoliciesForUser(db: Executor, userId: string): Promise<Array<{ roleName: string; requireTwoFactor: boolean; requirePhishingResistant: boolean }>> {
  const direct = db
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .innerJoin('role_policies', 'role_policies.role_id', 'roles.id')
    .select(['roles.name', 'role_policies.require_two_factor', 'role_policies.require_phishing_resistant'])
    .where('user_roles.user_id', '=', userId);
  const viaGroups = db
    .selectFrom('group_members')
    .innerJoin('group_roles', 'group_roles.group_id', 'group_members.group_id')
    .innerJoin('roles', 'roles.id', 'group_roles.role_id')
    .innerJoin('role_policies', 'role_policies.role_id', 'roles.id')
    .select(['roles.name', 'role_policies.require_two_factor', 'role_policies.require_phishing_resistant'])
    .where('group_members.user_id', '=', userId);
  const rows = await direct.union(viaGroups).execute();
  return rows
    .map((r) => ({ roleName: r.name, requireTwoFactor: Number(r.require_two_factor) === 1, requirePhishingResistant: Number(r.require_phishing_resistant) === 1 }))
    .sort((a, b) => a.roleName.localeCompare(b.roleName));
}
