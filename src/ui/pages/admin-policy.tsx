import type { EffectivePolicy, PolicySource } from '../../core/policy.js';
import { CHALLENGE_TRIGGERS, MAX_TRUST_BROWSER_DAYS, POLICY_METHODS, TWO_FACTOR_MODES } from '../../core/policy.js';
import type { ManagedOrganisation } from '../admin-nav.js';
import { AdminNav, OrganisationPicker } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { factorTypeLabel } from './admin-users.js';

export const MODE_LABELS: Record<string, string> = { off: 'Off', optional: 'Optional', required: 'Required' };
const MODE_HINTS: Record<string, string> = {
  off: 'Nobody is asked for a second step.',
  optional: 'People may turn on two-step verification; those who do are asked for it.',
  required: 'Everyone must set up a method, at their next sign-in if they have none.',
};
export const TRIGGER_LABELS: Record<string, string> = { every_sign_in: 'Every sign-in', new_device: 'A new device', new_location: 'A new location' };

/** Form fields for the list settings: one checkbox each, so a form post stays flat (no repeated names). */
export const triggerField = (trigger: string) => `trigger_${trigger}`;
export const methodField = (method: string) => `method_${method}`;

/** What the form shows: the stored policy, or what was just submitted when it was refused. */
export interface PolicyFormValues {
  mode: string;
  appliesToSubOrganisations: boolean;
  triggers: string[];
  allowedMethods: string[];
  trustBrowserDays: string;
  requirePhishingResistant?: boolean | undefined;
}

export interface AdminPolicyView {
  organisations: ManagedOrganisation[];
  orgId: string;
  orgName: string;
  /** Whether the organisation has a policy of its own (else the form starts from what applies now). */
  hasOwn: boolean;
  /** When and by whom the own policy was last saved, formatted for the viewer. */
  updated: string | null;
  form: PolicyFormValues;
  effective: EffectivePolicy;
  roles: Array<{ id: string; name: string; requireTwoFactor: boolean; requirePhishingResistant: boolean }>;
}

function sourceName(source: PolicySource): string {
  return source.kind === 'default' ? 'the built-in default' : `${source.name} (${source.kind})`;
}

/** "from Agency (organisation)", "from Agency (organisation) and Client (organisation)". */
export function describeSources(sources: readonly PolicySource[]): string {
  const names = sources.map(sourceName);
  const joined = names.length <= 1 ? (names[0] ?? 'the built-in default') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
  return `from ${joined}`;
}

function list(values: readonly string[], label: (v: string) => string): string {
  return values.length === 0 ? 'none' : values.map(label).join(', ');
}

function days(n: number): string {
  return n === 0 ? 'Never (no browser is trusted)' : n === 1 ? '1 day' : `${n} days`;
}

function EffectiveRule(props: { id: string; term: string; value: string; sources: readonly PolicySource[] }) {
  return (
    <>
      <dt>{props.term}</dt>
      <dd data-rule={props.id}>
        <span class="rule-value">{props.value}</span> <span class="rule-source">— {describeSources(props.sources)}</span>
      </dd>
    </>
  );
}

export function AdminPolicyPage(props: { chrome: PageChrome; view: AdminPolicyView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const f = v.form;
  const e = v.effective;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  return (
    <Layout {...props.chrome}>
      <div class="admin-wide">
        <AdminNav current="policy" />
        <h1 class="page-title">Two-step verification policy</h1>
        <p class="lead">What {v.orgName} asks of its members at sign-in.</p>
        <OrganisationPicker action="/admin/policy" organisations={v.organisations} selected={v.orgId} />
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}

        <section class="card" aria-labelledby="effective-title">
          <h2 id="effective-title">What applies to members of {v.orgName}</h2>
          <p class="muted">Each rule names where it comes from. Organisations further down can only make a rule stricter; a role that requires two-step verification makes it required for whoever holds the role.</p>
          <dl class="facts" data-testid="effective-policy">
            <EffectiveRule id="mode" term="Two-step verification" value={MODE_LABELS[e.mode.value] ?? e.mode.value} sources={e.mode.sources} />
            <EffectiveRule id="triggers" term="Ask for a code on" value={list(e.triggers.value, (t) => TRIGGER_LABELS[t] ?? t)} sources={e.triggers.sources} />
            <EffectiveRule id="allowedMethods" term="Allowed methods" value={list(e.allowedMethods.value, factorTypeLabel)} sources={e.allowedMethods.sources} />
            <EffectiveRule id="trustBrowserDays" term="Trust a browser for" value={days(e.trustBrowserDays.value)} sources={e.trustBrowserDays.sources} />
            <EffectiveRule id="phishingResistant" term="Security key or passkey required" value={e.phishingResistant.value ? 'Yes' : 'No'} sources={e.phishingResistant.sources} />
          </dl>
        </section>

        <section class="card" aria-labelledby="own-title">
          <h2 id="own-title">Policy of {v.orgName}</h2>
          {v.hasOwn ? (
            v.updated ? <p class="muted">Last changed {v.updated}.</p> : null
          ) : (
            <p class="muted">{v.orgName} has no policy of its own yet; the form starts from what applies now. Saving gives it one.</p>
          )}
          <form method="post" action="/admin/policy" class="policy-form">
            {csrf}
            <input type="hidden" name="org" value={v.orgId} />
            <fieldset>
              <legend>Two-step verification</legend>
              {TWO_FACTOR_MODES.map((m) => (
                <div key={m} class="choice-row">
                  <label class="check">
                    <input type="radio" name="mode" value={m} checked={f.mode === m} required /> {MODE_LABELS[m]}
                  </label>
                  <p class="hint">{MODE_HINTS[m]}</p>
                </div>
              ))}
            </fieldset>
            <label class="check">
              <input type="checkbox" name="appliesToSubOrganisations" value="on" checked={f.appliesToSubOrganisations} /> Also apply to every organisation below {v.orgName}
            </label>
            <p class="hint">For an agency and its client accounts: they can tighten it, never loosen it.</p>
            <fieldset>
              <legend>Ask for a code on</legend>
              {CHALLENGE_TRIGGERS.map((t) => (
                <label key={t} class="check">
                  <input type="checkbox" name={triggerField(t)} value="on" checked={f.triggers.includes(t)} /> {TRIGGER_LABELS[t]}
                </label>
              ))}
            </fieldset>
            <fieldset>
              <legend>Allowed methods</legend>
              {POLICY_METHODS.map((m) => (
                <label key={m} class="check">
                  <input type="checkbox" name={methodField(m)} value="on" checked={f.allowedMethods.includes(m)} /> {factorTypeLabel(m)}
                </label>
              ))}
              <p class="hint">Backup codes come with every method.</p>
            </fieldset>
            <label class="check">
              <input type="checkbox" name="requirePhishingResistant" value="on" checked={f.requirePhishingResistant === true} aria-describedby="phishing-resistant-help" /> Require a phishing-resistant method (a hardware or platform key, not codes)
            </label>
            <p class="hint" id="phishing-resistant-help">
              Codes no longer finish the second step. Members without a key are asked to add one at their next sign-in; backup codes still let someone in who lost their key. Needs “Required” and security keys allowed.
            </p>
            <label for="trust-days">Trust a browser for (days)</label>
            <input id="trust-days" class="days" name="trustBrowserDays" type="number" min={0} max={MAX_TRUST_BROWSER_DAYS} step={1} required value={f.trustBrowserDays} />
            <p class="hint">0 means “Trust this browser” is not offered. At most {MAX_TRUST_BROWSER_DAYS}.</p>
            <button type="submit">Save policy</button>
          </form>
        </section>

        <section class="card" aria-labelledby="roles-title">
          <h2 id="roles-title">Roles of {v.orgName}</h2>
          {v.roles.length === 0 ? (
            <p class="muted">{v.orgName} has no roles.</p>
          ) : (
            <>
              <p class="muted">Whoever holds a role marked here, directly or through a group, must use two-step verification whatever the mode above.</p>
              <ul class="items" data-testid="roles">
                {v.roles.map((r) => (
                  <li key={r.id} data-role-id={r.id}>
                    <div>
                      <div class="name">
                        {r.name} {r.requireTwoFactor ? <span class="badge ok">2FA required</span> : null}{' '}
                        {r.requirePhishingResistant ? <span class="badge ok">Key required</span> : null}
                      </div>
                    </div>
                    <form method="post" action={`/admin/policy/roles/${encodeURIComponent(r.id)}`} class="inline">
                      {csrf}
                      <input type="hidden" name="org" value={v.orgId} />
                      <input type="hidden" name="requireTwoFactor" value={r.requireTwoFactor ? 'off' : 'on'} />
                      <button type="submit" class="link">
                        {r.requireTwoFactor ? `Stop requiring 2FA for ${r.name}` : `Require 2FA for ${r.name}`}
                      </button>
                    </form>
                    <form method="post" action={`/admin/policy/roles/${encodeURIComponent(r.id)}`} class="inline">
                      {csrf}
                      <input type="hidden" name="org" value={v.orgId} />
                      <input type="hidden" name="requireTwoFactor" value={r.requirePhishingResistant ? (r.requireTwoFactor ? 'on' : 'off') : 'on'} />
                      <input type="hidden" name="requirePhishingResistant" value={r.requirePhishingResistant ? 'off' : 'on'} />
                      <button type="submit" class="link">
                        {r.requirePhishingResistant ? `Stop requiring a security key for ${r.name}` : `Require a security key for ${r.name}`}
                      </button>
                    </form>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
    </Layout>
  );
}
