import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface AccountView {
  displayName: string;
  email: string;
  roles: string[];
  timeZone: string;
  signedInAt: string;
  amr: string[];
  sessionCount: number;
  /** Every zone the server knows, for the picker. */
  timeZones: string[];
  /** "2026-11-25 14:30 (GMT+5:30)": now, in the user's zone, so the choice can be checked at a glance. */
  localNow: string;
}

/** The first run's next steps for an admin; the card goes once every step is done. */
export interface ChecklistItem {
  label: string;
  done: boolean;
  href: string;
}

function Checklist(props: { items: ChecklistItem[] }) {
  return (
    <section class="card" aria-labelledby="checklist-title" data-testid="first-run-checklist">
      <h2 id="checklist-title">Getting started</h2>
      <p class="muted">A few steps to make this server useful and safe. This list goes away once they are done.</p>
      <ol class="checklist">
        {props.items.map((item) => (
          <li key={item.label} data-done={item.done ? 'yes' : 'no'}>
            {item.done ? (
              <>
                <span class="badge ok">Done</span> {item.label}
              </>
            ) : (
              <a href={item.href}>{item.label}</a>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

const METHOD_NAMES: Record<string, string> = { pwd: 'password', otp: 'one-time code', sms: 'text message', hwk: 'security key' };

/** "password + one-time code" rather than RFC 8176 codes; `mfa` only restates the others. */
function describeMethods(amr: string[]): string {
  return amr
    .filter((m) => m !== 'mfa')
    .map((m) => METHOD_NAMES[m] ?? m)
    .join(' + ');
}

export function AccountPage(props: {
  chrome: PageChrome;
  account: AccountView;
  notice?: string | undefined;
  error?: string | undefined;
  timeZoneError?: string | undefined;
  checklist?: ChecklistItem[] | undefined;
}) {
  const a = props.account;
  return (
    <Layout {...props.chrome}>
      {props.checklist && props.checklist.some((item) => !item.done) ? <Checklist items={props.checklist} /> : null}
      <section class="card" aria-labelledby="account-title">
        <h1 id="account-title">Signed in as {a.displayName}</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        <dl class="facts">
          <dt>Email</dt>
          <dd data-testid="account-email">{a.email}</dd>
          <dt>Roles</dt>
          <dd>{a.roles.length > 0 ? a.roles.join(', ') : 'none'}</dd>
          <dt>Time zone</dt>
          <dd data-testid="account-time-zone">
            {a.timeZone} <span class="muted">· now {a.localNow}</span>
          </dd>
          <dt>This session</dt>
          <dd>
            Signed in {a.signedInAt} with {describeMethods(a.amr)}
          </dd>
          <dt>Active sessions</dt>
          <dd>{a.sessionCount}</dd>
        </dl>
        <a class="button secondary" href="/account/security">
          Security settings
        </a>
      </section>
      <section class="card" aria-labelledby="time-zone-title">
        <h2 id="time-zone-title">Time zone</h2>
        {props.timeZoneError ? <Alert kind="error">{props.timeZoneError}</Alert> : null}
        <p class="muted">Times on your pages, in security emails and in your activity export are shown in this zone.</p>
        <form method="post" action="/account/time-zone">
          <CsrfField token={props.chrome.csrf} />
          <label for="timeZone">Your time zone</label>
          <select id="timeZone" name="timeZone" autocomplete="off">
            {a.timeZones.map((zone) => (
              <option key={zone} value={zone} selected={zone === a.timeZone}>
                {zone.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
          {a.timeZone === 'UTC' ? (
            // Still the default: the page script offers the browser's own zone, when it knows one we list.
            <p class="hint" data-browser-zone hidden>
              Your browser is set to <strong data-browser-zone-name></strong>.{' '}
              <button type="button" class="link" data-action="use-browser-zone">
                Use it
              </button>
            </p>
          ) : null}
          <button type="submit" class="secondary">
            Save time zone
          </button>
        </form>
      </section>
      <section class="card" aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="muted">Your other sessions end and trusted browsers are forgotten; two-step verification stays on.</p>
        <form method="post" action="/account/password">
          <CsrfField token={props.chrome.csrf} />
          <label for="currentPassword">Current password</label>
          <input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required />
          <label for="newPassword">New password</label>
          <input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required minLength={8} aria-describedby="new-password-help" />
          <p id="new-password-help" class="muted">
            At least 8 characters. Long passphrases are welcome; common passwords are refused.
          </p>
          <button type="submit">Change password</button>
        </form>
      </section>
    </Layout>
  );
}
