/**
 * Effective two-factor policy for one user, from the policies of their organisation, its
 * ancestors and their roles. Pure: callers load the rules, this decides.
 *
 * Rules of combination, strictest wins:
 * - an organisation's own policy applies to its members;
 * - an ancestor's policy applies below it only when it says so (`appliesToSubOrganisations`);
 * - a sub-organisation may make things stricter, never looser: the mode is the strictest met
 *   (off < optional < required), challenge triggers are united, allowed methods intersected,
 *   the trusted-browser lifetime is the shortest;
 * - a role that requires 2FA makes it required for everyone holding the role;
 * - a policy that requires a phishing-resistant method (security key or passkey) makes it
 *   required below it too, and makes 2FA required.
 * Every field of the result names the rule it came from, so admins can see why.
 */
export const TWO_FACTOR_MODES = ['off', 'optional', 'required'] as const;
export type TwoFactorMode = (typeof TWO_FACTOR_MODES)[number];

export const CHALLENGE_TRIGGERS = ['every_sign_in', 'new_device', 'new_location'] as const;
export type ChallengeTrigger = (typeof CHALLENGE_TRIGGERS)[number];

/** Methods a policy can allow for enrolment. Backup codes come with any factor, so are not listed. */
export const POLICY_METHODS = ['totp', 'sms', 'email', 'webauthn', 'push'] as const;
export type PolicyMethod = (typeof POLICY_METHODS)[number];

export const MAX_TRUST_BROWSER_DAYS = 365;

export interface OrganisationPolicy {
  orgId: string;
  orgName: string;
  mode: TwoFactorMode;
  appliesToSubOrganisations: boolean;
  triggers: readonly ChallengeTrigger[];
  allowedMethods: readonly string[];
  trustBrowserDays: number;
  /** Codes do not finish the second step, a security key or passkey does (absent: false). */
  requirePhishingResistant?: boolean;
}

export interface RolePolicy {
  roleName: string;
  requireTwoFactor: boolean;
  /** The role needs a security key or passkey at the second step (absent: false). */
  requirePhishingResistant?: boolean;
}

export type PolicySource = { kind: 'default'; name: 'default' } | { kind: 'organisation' | 'role'; name: string };

/** A value and the rules that produced it (several, for united or intersected lists). */
export interface Sourced<T> {
  value: T;
  sources: PolicySource[];
}

export interface EffectivePolicy {
  mode: Sourced<TwoFactorMode>;
  triggers: Sourced<ChallengeTrigger[]>;
  allowedMethods: Sourced<string[]>;
  trustBrowserDays: Sourced<number>;
  /** Whether the second step needs a security key or passkey (codes no longer finish it). */
  phishingResistant: Sourced<boolean>;
}

export interface PolicyInputs {
  /** Policies from the root organisation down to the user's own, in that order; gaps allowed. */
  chain: readonly OrganisationPolicy[];
  userOrgId: string;
  roles: readonly RolePolicy[];
  defaults: { mode: TwoFactorMode; triggers: readonly ChallengeTrigger[]; allowedMethods: readonly string[]; trustBrowserDays: number };
}

export const DEFAULT_SOURCE: PolicySource = { kind: 'default', name: 'default' };

const STRICTNESS: Record<TwoFactorMode, number> = { off: 0, optional: 1, required: 2 };

export function isStricterMode(a: TwoFactorMode, than: TwoFactorMode): boolean {
  return STRICTNESS[a] > STRICTNESS[than];
}

/** The policies that reach a member of `userOrgId`: their own organisation's, and ancestors' that apply below. */
export function applicablePolicies(chain: readonly OrganisationPolicy[], userOrgId: string): OrganisationPolicy[] {
  return chain.filter((p) => p.orgId === userOrgId || p.appliesToSubOrganisations);
}

export function effectivePolicy(inputs: PolicyInputs): EffectivePolicy {
  const applicable = applicablePolicies(inputs.chain, inputs.userOrgId);
  const orgSource = (p: OrganisationPolicy): PolicySource => ({ kind: 'organisation', name: p.orgName });
  const [first, ...rest] = applicable;

  // The topmost applicable policy replaces the defaults (it may switch 2FA off)...
  const result: EffectivePolicy = first
    ? {
        mode: { value: first.mode, sources: [orgSource(first)] },
        triggers: { value: [...first.triggers], sources: [orgSource(first)] },
        allowedMethods: { value: inputs.defaults.allowedMethods.filter((m) => first.allowedMethods.includes(m)), sources: [orgSource(first)] },
        trustBrowserDays: { value: first.trustBrowserDays, sources: [orgSource(first)] },
        phishingResistant: { value: first.requirePhishingResistant === true, sources: [orgSource(first)] },
      }
    : {
        mode: { value: inputs.defaults.mode, sources: [DEFAULT_SOURCE] },
        triggers: { value: [...inputs.defaults.triggers], sources: [DEFAULT_SOURCE] },
        allowedMethods: { value: [...inputs.defaults.allowedMethods], sources: [DEFAULT_SOURCE] },
        trustBrowserDays: { value: inputs.defaults.trustBrowserDays, sources: [DEFAULT_SOURCE] },
        phishingResistant: { value: false, sources: [DEFAULT_SOURCE] },
      };

  // ...and every policy below it can only tighten.
  for (const policy of rest) {
    const source = orgSource(policy);
    if (isStricterMode(policy.mode, result.mode.value)) result.mode = { value: policy.mode, sources: [source] };

    const addedTriggers = policy.triggers.filter((t) => !result.triggers.value.includes(t));
    if (addedTriggers.length > 0) {
      result.triggers = { value: [...result.triggers.value, ...addedTriggers], sources: [...result.triggers.sources, source] };
    }

    const keptMethods = result.allowedMethods.value.filter((m) => policy.allowedMethods.includes(m));
    if (keptMethods.length < result.allowedMethods.value.length) {
      result.allowedMethods = { value: keptMethods, sources: [...result.allowedMethods.sources, source] };
    }

    if (policy.trustBrowserDays < result.trustBrowserDays.value) {
      result.trustBrowserDays = { value: policy.trustBrowserDays, sources: [source] };
    }

    if (policy.requirePhishingResistant === true && !result.phishingResistant.value) result.phishingResistant = { value: true, sources: [source] };
  }

  // A role can require a key too; it adds to what the organisations require, never relaxes it.
  const keyRoles = inputs.roles.filter((r) => r.requirePhishingResistant === true);
  if (keyRoles.length > 0 && !result.phishingResistant.value) {
    result.phishingResistant = { value: true, sources: keyRoles.map((r) => ({ kind: 'role', name: r.roleName })) };
  }

  // A key is a second factor: requiring one requires 2FA, and keys stay enrollable whatever the lists left.
  if (result.phishingResistant.value) {
    if (result.mode.value !== 'required') result.mode = { value: 'required', sources: [...result.phishingResistant.sources] };
    if (!result.allowedMethods.value.includes('webauthn')) result.allowedMethods = { value: [...result.allowedMethods.value, 'webauthn'], sources: [...result.allowedMethods.sources, ...result.phishingResistant.sources] };
  }

  const requiringRoles = inputs.roles.filter((r) => r.requireTwoFactor);
  if (requiringRoles.length > 0 && result.mode.value !== 'required') {
    result.mode = { value: 'required', sources: requiringRoles.map((r) => ({ kind: 'role', name: r.roleName })) };
  }
  return result;
}
