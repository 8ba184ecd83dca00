import type { ManagedOrganisation } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { TargetBadges } from './deploys.js';
import { MethodSelect, SendCodeForms } from '../code-form.js';

/** Why the requirement is one-way, said the same on both pages. */
const IRREVERSIBLE_WHY =
  'Once a target requires two-step verification it can never be switched off: anyone who could switch it off could deploy without a code, which is what the requirement exists to prevent.';

export interface NewTargetValues {
  orgId?: string | undefined;
  name?: string | undefined;
  timing?: 'automatic' | 'manual' | undefined;
  requireTwoFactor?: boolean | undefined;
}

/** Creating a deploy target (admins): organisation, name, timing and the one-way 2FA requirement. */
export function NewTargetPage(props: { chrome: PageChrome; organisations: ManagedOrganisation[]; values: NewTargetValues; error?: string | undefined }) {
  const v = props.values;
  const timing = v.timing ?? 'manual';
  return (
    <Layout {...props.chrome}>
      <div class="deploy-wide">
        <p class="crumbs">
          <a href="/deploy">Deploy targets</a>
        </p>
        <section class="card" aria-labelledby="new-target-title">
          <h1 id="new-target-title">New deploy target</h1>
          {props.error ? <Alert kind="error">{props.error}</Alert> : null}
          <form method="post" action="/deploy/new">
            <CsrfField token={props.chrome.csrf} />
            {props.organisations.length > 1 ? (
              <>
                <label for="target-org">Organisation</label>
                <select id="target-org" name="org">
                  {props.organisations.map((o) => (
                    <option key={o.id} value={o.id} selected={o.id === v.orgId}>
                      {`${'\u2003'.repeat(o.depth)}${o.name}`}
                    </option>
                  ))}
                </select>
              </>
            ) : (
              <input type="hidden" name="org" value={props.organisations[0]?.id ?? ''} />
            )}
            <label for="target-name">Name</label>
            <input id="target-name" name="name" type="text" required maxLength={80} value={v.name ?? ''} autocomplete="off" />
            <fieldset class="choices">
              <legend>Timing</legend>
              <label class="check">
                <input type="radio" name="timing" value="manual" checked={timing === 'manual'} /> Manual: changes wait until someone deploys them
              </label>
              <label class="check">
                <input type="radio" name="timing" value="automatic" checked={timing === 'automatic'} /> Automatic: every change goes live as it arrives
              </label>
            </fieldset>
            <label class="check">
              <input type="checkbox" name="requireTwoFactor" checked={v.requireTwoFactor === true} aria-describedby="require-2fa-help" /> Require two-step verification to deploy
            </label>
            <p id="require-2fa-help" class="hint">
              Needs manual timing. {IRREVERSIBLE_WHY}
            </p>
            <div class="actions">
              <button type="submit">Create target</button>
              <a class="button secondary" href="/deploy">
                Cancel
              </a>
            </div>
          </form>
        </section>
      </div>
    </Layout>
  );
}

export interface TargetSettingsView {
  id: string;
  name: string;
  timing: 'automatic' | 'manual';
  requireTwoFactor: boolean;
  /** People who may be picked (active, with 2FA, able to see the target). */
  candidates: Array<{ id: string; email: string; displayName: string }>;
  /** The current deployers' ids. */
  deployerIds: string[];
  /** Current deployers who can no longer be picked (their methods were reset); saving drops them. */
  lapsed: string[];
  /** Code methods the editor holds, for a protected target. */
  methods: Array<{ method: string; label: string }>;
  /** Of those, the ones whose code is sent on request. */
  sendable: Array<{ method: string; label: string }>;
  selected?: string | undefined;
}

/** A target's settings (admins): rename, timing, switching 2FA on, and who may deploy. */
export function TargetSettingsPage(props: { chrome: PageChrome; view: TargetSettingsView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const base = `/deploy/targets/${encodeURIComponent(v.id)}`;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  return (
    <Layout {...props.chrome}>
      <div class="deploy-wide">
        <p class="crumbs">
          <a href="/deploy">Deploy targets</a> / <a href={base}>{v.name}</a>
        </p>
        <h1 class="page-title">
          Settings of {v.name} <TargetBadges timing={v.timing} requireTwoFactor={v.requireTwoFactor} />
        </h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}

        <section class="card" aria-labelledby="settings-title">
          <h2 id="settings-title">Name and timing</h2>
          <form method="post" action={`${base}/settings`}>
            {csrf}
            <label for="target-name">Name</label>
            <input id="target-name" name="name" type="text" required maxLength={80} value={v.name} autocomplete="off" />
            {v.requireTwoFactor ? (
              <>
                <input type="hidden" name="timing" value="manual" />
                <Alert kind="info">
                  <span data-testid="two-factor-locked">
                    This target requires two-step verification to deploy, with manual timing. {IRREVERSIBLE_WHY} To deploy without a code, <a href="/deploy/new">create a new target</a>.
                  </span>
                </Alert>
              </>
            ) : (
              <>
                <fieldset class="choices">
                  <legend>Timing</legend>
                  <label class="check">
                    <input type="radio" name="timing" value="manual" checked={v.timing === 'manual'} /> Manual
                  </label>
                  <label class="check">
                    <input type="radio" name="timing" value="automatic" checked={v.timing === 'automatic'} /> Automatic
                  </label>
                </fieldset>
                <label class="check">
                  <input type="checkbox" name="requireTwoFactor" aria-describedby="require-2fa-help" /> Require two-step verification to deploy
                </label>
                <p id="require-2fa-help" class="hint">
                  Needs manual timing. {IRREVERSIBLE_WHY}
                </p>
              </>
            )}
            <button type="submit">Save</button>
          </form>
        </section>

        <section class="card" aria-labelledby="deployers-title">
          <h2 id="deployers-title">Who may deploy</h2>
          {v.candidates.length === 0 ? (
            <p class="muted">Nobody can be picked yet: only people who have set up two-step verification, in this target's organisation or one above it, can deploy.</p>
          ) : null}
          {v.lapsed.length > 0 ? (
            <Alert kind="warn">
              {v.lapsed.join(', ')} {v.lapsed.length === 1 ? 'no longer has' : 'no longer have'} two-step verification; saving removes {v.lapsed.length === 1 ? 'them' : 'them all'} from the list.
            </Alert>
          ) : null}
          <form method="post" action={`${base}/deployers`}>
            {csrf}
            {v.candidates.length > 0 ? (
              <fieldset class="choices">
                <legend>People with two-step verification</legend>
                {v.candidates.map((c) => (
                  <label class="check" key={c.id}>
                    <input type="checkbox" name={`user:${c.id}`} checked={v.deployerIds.includes(c.id)} /> {c.displayName} <span class="muted">{c.email}</span>
                  </label>
                ))}
              </fieldset>
            ) : null}
            {v.requireTwoFactor ? (
              <>
                <MethodSelect id="deployers-method" methods={v.methods} selected={v.selected} />
                <label for="deployers-code">Your current code</label>
                <input
                  id="deployers-code"
                  class="code"
                  name="code"
                  type="text"
                  inputmode="numeric"
                  required
                  autocomplete="one-time-code"
                  maxLength={64}
                  aria-describedby="deployers-code-help"
                />
                <p id="deployers-code-help" class="hint">
                  Changing who may deploy a protected target takes a current code from your own device, every time. Backup codes do not work here.
                </p>
              </>
            ) : null}
            <button type="submit">Save deployers</button>
          </form>
          {v.requireTwoFactor ? <SendCodeForms action={`${base}/deployers/send-code`} methods={v.sendable} fields={csrf} /> : null}
        </section>
      </div>
    </Layout>
  );
}
