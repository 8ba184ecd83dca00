import { invalidInput, notFound } from '../core/errors.js';
import type { ChallengeTrigger, EffectivePolicy, OrganisationPolicy, RolePolicy, TwoFactorMode } from '../core/policy.js';
import { CHALLENGE_TRIGGERS, MAX_TRUST_BROWSER_DAYS, POLICY_METHODS, TWO_FACTOR_MODES, effectivePolicy } from '../core/policy.js';
import type { Executor, Organisation } from '../store/index.js';
import { policies, roles, users } from '../store/index.js';
import { ADMIN_ROLE } from './accounts.js';
import type { Actor } from './actor.js';
import type { Notifier } from './messaging/notifier.js';
import { requireSudoAdmin } from './step-up.js';
import { requireInTree } from './tenancy.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Principal } from './principal.js';

/**
 * What organisation policy demands of a user. Everything that must respect policy asks
 * through here (FactorService before removing the last factor, sign-in before a session).
 */
export interface SecondFactorPolicy {
  /** Pass the transaction when inside one: SQLite has a single connection. */
  requiresSecondFactor(user: Principal, db?: Executor): Promise<boolean>;
}

export interface OrganisationPolicyInput {
  mode: TwoFactorMode;
  appliesToSubOrganisations: boolean;
  triggers: ChallengeTrigger[];
  allowedMethods: string[];
  trustBrowserDays: number;
  /** Codes no longer finish the second step: a security key or passkey does (absent: false). */
  requirePhishingResistant?: boolean;
}

export interface OrganisationPolicyView extends OrganisationPolicyInput {
  updatedAt: string;
  updatedBy: string | null;
}

export interface OrganisationPolicyReport {
  organisation: { id: string; name: string; parentId: string | null };
  /** The organisation's own policy, null if it has none. */
  own: OrganisationPolicyView | null;
  /** What applies to its members before their roles are counted. */
  effective: EffectivePolicy;
}

const NO_ROLE = { code: 'role_not_found', message: 'No such role.' } as const;

/**
 * Two-factor policy. What applies to a user is for everyone to ask; reading or changing an
 * organisation's or a role's policy is for its admins with sudo, checked here (requireSudoAdmin).
 */
export class PolicyService implements SecondFactorPolicy {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier?: Notifier,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async requiresSecondFactor(user: Principal, db: Executor = this.db): Promise<boolean> {
    return (await this.effectiveFor(user, db)).mode.value === 'required';
  }

  /**
   * Which of these organisations' policy chains require 2FA of their members, roles aside (a role
   * that requires it decides on its own). The admin user list asks this once for a page's
   * organisations: one statement however many there are.
   */
  async organisationsRequiringSecondFactor(orgIds: readonly string[], db: Executor = this.db): Promise<Set<string>> {
    const chains = await policies.policyChains(db, orgIds);
    return new Set([...chains].filter(([orgId, chain]) => this.compute(chain, orgId, []).mode.value === 'required').map(([orgId]) => orgId));
  }

  async effectiveFor(user: Principal, db: Executor = this.db): Promise<EffectivePolicy> {
    const chain = await policies.policyChain(db, user.org_id);
    return this.compute(chain, user.org_id, await policies.rolePoliciesForUser(db, user.id));
  }

  /** An admin's view of one organisation's policy: own rules and what its members get. Admins with sudo, their own tree. */
  async organisationPolicy(actor: Actor, orgId: string): Promise<OrganisationPolicyReport> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const org = await requireInTree(this.db, admin, orgId);
    return this.report(this.db, org);
  }

  /** What the admin policy page shows: the report, the organisation's roles and who last changed the policy. */
  async adminView(actor: Actor, orgId: string): Promise<{ report: OrganisationPolicyReport; roles: Array<{ id: string; name: string; requireTwoFactor: boolean; requirePhishingResistant: boolean }>; updatedByEmail: string | null }> {
    const report = await this.organisationPolicy(actor, orgId);
    const updatedBy = report.own?.updatedBy;
    const [orgRoles, updater] = await Promise.all([roles.listRolesWithRequirement(this.db, report.organisation.id), updatedBy ? users.findUser(this.db, updatedBy) : undefined]);
    return { report, roles: orgRoles, updatedByEmail: updater?.email ?? null };
  }

  async setOrganisationPolicy(actor: Actor, orgId: string, input: OrganisationPolicyInput, meta: RequestMeta): Promise<OrganisationPolicyReport> {
    // Before the transaction: on SQLite the check's own reads would wait for it.
    const admin = await requireSudoAdmin(this.deps, actor);
    const clean = validatePolicyInput(input);
    const report = await this.db.transaction().execute(async (trx) => {
      const org = await requireInTree(trx, admin, orgId);
      const before = await policies.findOrganisationPolicy(trx, orgId);
      const now = this.deps.clock();
      await policies.upsertOrganisationPolicy(trx, { orgId, ...clean, requirePhishingResistant: clean.requirePhishingResistant === true, updatedAt: now, updatedBy: admin.id });
      await recordAudit(trx, now, {
        type: 'policy.changed',
        actorUserId: admin.id,
        orgId,
        meta,
        details: { before: before ? toInput(before) : null, after: clean },
      });
      return this.report(trx, org);
    });
    // The organisation's admins hear of every change, so a rogue or mistaken edit does not go unseen.
    const admins = await roles.activeHoldersOfRole(this.db, orgId, ADMIN_ROLE);
    const summary = `${clean.mode}; challenge on ${clean.triggers.join(', ')}; methods ${clean.allowedMethods.join(', ')}; trust browsers ${clean.trustBrowserDays} days${clean.requirePhishingResistant ? '; security key or passkey required' : ''}${clean.appliesToSubOrganisations ? '; applies to sub-organisations' : ''}`;
    for (const admin of admins) {
      await this.notifier?.notify(admin, { title: `The 2FA policy of ${report.organisation.name} changed`, lines: [['Changed by', admin.email], ['New policy', summary]] }, meta);
    }
    return report;
  }

  /**
   * What a role demands of everyone holding it: two-step verification and, optionally, a
   * security key or passkey for it (which needs the first). Left out, `requirePhishingResistant`
   * keeps what the role had, unless two-step verification is being switched off, which ends both.
   */
  async setRoleRequirement(
    actor: Actor,
    roleId: string,
    requireTwoFactor: boolean,
    meta: RequestMeta,
    change: { requirePhishingResistant?: boolean | undefined } = {},
  ): Promise<{ roleId: string; role: string; orgId: string; requireTwoFactor: boolean; requirePhishingResistant: boolean }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    if (change.requirePhishingResistant === true && !requireTwoFactor) {
      throw invalidInput('mode_invalid', 'Requiring a security key or passkey for a role needs two-step verification required for it too.');
    }
    return this.db.transaction().execute(async (trx) => {
      const role = await roles.findRole(trx, roleId);
      if (!role) throw notFound(NO_ROLE.code, NO_ROLE.message);
      await requireInTree(trx, admin, role.org_id, NO_ROLE);
      const before = await policies.findRolePolicy(trx, roleId);
      const requirePhishingResistant = requireTwoFactor && (change.requirePhishingResistant ?? before?.requirePhishingResistant ?? false);
      const now = this.deps.clock();
      await policies.setRoleRequirement(trx, { roleId, requireTwoFactor, requirePhishingResistant, updatedAt: now, updatedBy: admin.id });
      await recordAudit(trx, now, {
        type: 'role_policy.changed',
        actorUserId: admin.id,
        orgId: role.org_id,
        meta,
        details: { roleId, role: role.name, before: before?.requireTwoFactor ?? false, requireTwoFactor, phishingResistantBefore: before?.requirePhishingResistant ?? false, requirePhishingResistant },
      });
      return { roleId, role: role.name, orgId: role.org_id, requireTwoFactor, requirePhishingResistant };
    });
  }

  private async report(db: Executor, org: Organisation): Promise<OrganisationPolicyReport> {
    const chain = await policies.policyChain(db, org.id);
    const own = chain.find((l) => l.orgId === org.id)?.policy ?? null;
    return {
      organisation: { id: org.id, name: org.name, parentId: org.parent_id },
      own: own ? { ...toInput(own), updatedAt: new Date(own.updatedAt).toISOString(), updatedBy: own.updatedBy } : null,
      effective: this.compute(chain, org.id, []),
    };
  }

  private compute(chain: policies.ChainLink[], orgId: string, rolePolicies: readonly RolePolicy[]): EffectivePolicy {
    const orgPolicies: OrganisationPolicy[] = chain.flatMap((link) =>
      link.policy ? [{ orgId: link.orgId, orgName: link.orgName, ...toInput(link.policy) }] : [],
    );
    return effectivePolicy({
      chain: orgPolicies,
      userOrgId: orgId,
      roles: rolePolicies,
      defaults: { mode: 'optional', triggers: ['every_sign_in'], allowedMethods: POLICY_METHODS, trustBrowserDays: this.deps.settings.trustBrowserDays },
    });
  }
}

function toInput(policy: policies.StoredOrganisationPolicy): OrganisationPolicyInput {
  const { mode, appliesToSubOrganisations, triggers, allowedMethods, trustBrowserDays, requirePhishingResistant } = policy;
  return { mode, appliesToSubOrganisations, triggers, allowedMethods, trustBrowserDays, requirePhishingResistant };
}

/** The HTTP schema checks shapes; this checks meaning, for every caller (API, CLI, tests). */
export function validatePolicyInput(input: OrganisationPolicyInput): OrganisationPolicyInput {
  if (!(TWO_FACTOR_MODES as readonly string[]).includes(input.mode)) throw invalidInput('mode_invalid', 'Mode is off, optional or required.');
  if (input.triggers.length === 0 || input.triggers.some((t) => !(CHALLENGE_TRIGGERS as readonly string[]).includes(t))) {
    throw invalidInput('triggers_invalid', `Triggers are one or more of ${CHALLENGE_TRIGGERS.join(', ')}.`);
  }
  if (input.allowedMethods.length === 0 || input.allowedMethods.some((m) => !(POLICY_METHODS as readonly string[]).includes(m))) {
    throw invalidInput('allowed_methods_invalid', `Allowed methods are one or more of ${POLICY_METHODS.join(', ')}.`);
  }
  if (!Number.isInteger(input.trustBrowserDays) || input.trustBrowserDays < 0 || input.trustBrowserDays > MAX_TRUST_BROWSER_DAYS) {
    throw invalidInput('trust_browser_days_invalid', `Trusted-browser lifetime is 0 to ${MAX_TRUST_BROWSER_DAYS} days.`);
  }
  const phishingResistant = input.requirePhishingResistant === true;
  // Requiring a key while not allowing one would leave members nothing to enrol.
  if (phishingResistant && !input.allowedMethods.includes('webauthn')) throw invalidInput('allowed_methods_invalid', 'Requiring a security key or passkey needs "webauthn" among the allowed methods.');
  if (phishingResistant && input.mode !== 'required') throw invalidInput('mode_invalid', 'Requiring a security key or passkey needs the mode "required".');
  return {
    mode: input.mode,
    appliesToSubOrganisations: input.appliesToSubOrganisations,
    triggers: [...new Set(input.triggers)],
    allowedMethods: [...new Set(input.allowedMethods)],
    trustBrowserDays: input.trustBrowserDays,
    requirePhishingResistant: phishingResistant,
  };
}
