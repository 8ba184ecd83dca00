import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { SecurityNav } from '../security-nav.js';
import { describeUserAgent } from '../user-agent.js';
import { METHOD_LABELS, PhoneFields } from './enrol-code.js';

export interface SecurityView {
  factors: Array<{ id: string; label: string; type: string; destination?: string | undefined; createdAt: string; lastUsedAt: string | null; default?: boolean }>;
  backupCodes: { remaining: number; total: number; low: boolean };
  trustedBrowsers: Array<{ id: string; userAgent: string; ip: string; createdAt: string; expiresAt: string }>;
  /** Whether sensitive actions are unlocked right now (recent re-authentication). */
  reauthenticated: boolean;
  hasFactor: boolean;
  /** Which methods may be added now, and why not. */
  methods: Array<{ method: string; available: boolean; reason?: string | undefined }>;
  accountEmail: string;
  /** Preselected phone country and what was typed last, after a refusal. */
  values: { country?: string | undefined; number?: string | undefined; email?: string | undefined };
  /** Methods the user could re-authenticate with by a sent code (held and usable now). */
  reauthSendable: Array<'sms' | 'email'>;
  /** A re-authentication code went out (or was asked for) by this method. */
  reauthSent?: { method: 'sms' | 'email'; sentTo?: string | undefined } | undefined;
  holdsTotp: boolean;
}

const DELIVERED_NOUN: Record<string, string> = { sms: 'number', email: 'email' };

function ChangeDestination(props: { factor: SecurityView['factors'][number]; csrf: string; country?: string | undefined }) {
  const f = props.factor;
  const id = `change-${f.id}`;
  return (
    <details class="change">
      <summary>Change {DELIVERED_NOUN[f.type]}</summary>
      <form method="post" action={`/account/security/factors/${f.id}/change`}>
        <CsrfField token={props.csrf} />
        {f.type === 'sms' ? (
          <PhoneFields idPrefix={id} country={props.country} />
        ) : (
          <>
            <label for={`${id}-email`}>New email address for codes</label>
            <input id={`${id}-email`} name="email" type="email" autocomplete="email" maxLength={254} required />
          </>
        )}
        <p class="hint">We send a code there; the old {f.type === 'sms' ? 'number' : 'address'} keeps getting codes until you enter it.</p>
        <button type="submit" class="secondary">
          Send code to the new {f.type === 'sms' ? 'number' : 'address'}
        </button>
      </form>
    </details>
  );
}

function Unavailable(props: { reason: string | undefined }) {
  return <p class="muted">{props.reason ?? 'Not available.'}</p>;
}

export function SecurityPage(props: { chrome: PageChrome; view: SecurityView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const method = (m: string) => v.methods.find((x) => x.method === m) ?? { method: m, available: false, reason: undefined };
  const totp = method('totp');
  const sms = method('sms');
  const email = method('email');
  const securityKey = method('webauthn');
  return (
    <Layout {...props.chrome}>
      <SecurityNav current="factors" />
      <h1 class="page-title">Security</h1>
      {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
      {props.error ? <Alert kind="error">{props.error}</Alert> : null}

      <section class="card" aria-labelledby="factors-title">
        <h2 id="factors-title">Two-step verification</h2>
        {v.factors.length === 0 ? (
          <p class="status">
            <span class="badge">Off</span> <span>Add a second step so a stolen password alone cannot open your account.</span>
          </p>
        ) : (
          <ul class="items">
            {v.factors.map((f) => (
              <li key={f.id}>
                <div>
                  <div class="name">
                    {f.label} <span class="badge ok">On</span>
                    {f.default && v.factors.length > 1 ? <> <span class="badge">Default</span></> : null}
                  </div>
                  <div class="meta">
                    {METHOD_LABELS[f.type] ?? f.type}
                    {f.destination ? <> · <span data-destination>{f.destination}</span></> : null} · added {f.createdAt} · last used {f.lastUsedAt ?? 'never'}
                  </div>
                  {f.type === 'sms' || f.type === 'email' ? <ChangeDestination factor={f} csrf={props.chrome.csrf} country={v.values.country} /> : null}
                  {f.type === 'webauthn' ? (
                    <details class="rename">
                      <summary>Rename</summary>
                      <form method="post" action={`/account/security/factors/${f.id}/rename`}>
                        {csrf}
                        <label for={`rename-${f.id}`}>New name for {f.label}</label>
                        <input id={`rename-${f.id}`} name="name" type="text" maxLength={64} required value={f.label} />
                        <button type="submit" class="small">
                          Save name
                        </button>
                      </form>
                    </details>
                  ) : null}
                  {/* With several methods the person picks the one sign-in opens on (text and email then send their code by themselves). */}
                  {v.factors.length > 1 && !f.default ? (
                    <form method="post" action={`/account/security/factors/${f.id}/default`} class="make-default">
                      {csrf}
                      <button type="submit" class="link" aria-label={`Make default: ${f.label}`}>
                        Make default
                      </button>
                    </form>
                  ) : null}
                </div>
                {/* A step of its own: the next page says what removing it does (and asks to confirm it is you when needed). */}
                <a href={`/account/security/factors/${f.id}/remove`} aria-label={`Remove ${f.label}`}>
                  Remove
                </a>
              </li>
            ))}
          </ul>
        )}

        <div class="add-method" aria-labelledby="add-totp-title">
          <h3 id="add-totp-title">Authenticator app</h3>
          {totp.available ? (
            <form method="post" action="/account/security/totp">
              {csrf}
              <label for="label">
                New authenticator name <span class="optional">(optional)</span>
              </label>
              <input id="label" name="label" type="text" maxLength={64} placeholder="Phone" />
              <button type="submit">Add authenticator app</button>
            </form>
          ) : (
            <Unavailable reason={totp.reason} />
          )}
        </div>

        <div class="add-method" aria-labelledby="add-key-title">
          <h3 id="add-key-title">Security key or passkey</h3>
          {securityKey.available ? (
            <form method="post" action="/account/security/webauthn">
              {csrf}
              <label for="key-label">
                New key name <span class="optional">(optional)</span>
              </label>
              <input id="key-label" name="name" type="text" maxLength={64} placeholder="Security key" />
              <button type="submit">Add security key</button>
            </form>
          ) : (
            <Unavailable reason={securityKey.reason} />
          )}
        </div>

        <div class="add-method" aria-labelledby="add-sms-title">
          <h3 id="add-sms-title">Add a phone (text message)</h3>
          {sms.available ? (
            <form method="post" action="/account/security/sms">
              {csrf}
              <PhoneFields idPrefix="add-phone" country={v.values.country} number={v.values.number} />
              <button type="submit">Add phone</button>
            </form>
          ) : (
            <Unavailable reason={sms.reason} />
          )}
        </div>

        <div class="add-method" aria-labelledby="add-email-title">
          <h3 id="add-email-title">Add email</h3>
          {email.available ? (
            <form method="post" action="/account/security/email">
              {csrf}
              <label for="add-email">Email address for codes</label>
              <input id="add-email" name="email" type="email" autocomplete="email" maxLength={254} required value={v.values.email ?? v.accountEmail} aria-describedby="add-email-help" />
              <p class="hint" id="add-email-help">
                Your account address, or another one only you can read.
              </p>
              <button type="submit">Add email</button>
            </form>
          ) : (
            <Unavailable reason={email.reason} />
          )}
        </div>
      </section>

      <section class="card" aria-labelledby="approvers-title">
        <h2 id="approvers-title">Approve on your phone</h2>
        <p>Get a prompt on your phone and tap the number shown on the screen you sign in on. No app store needed.</p>
        <p>
          <a class="button secondary" href="/account/security/approvers">
            Phones for approvals
          </a>
        </p>
      </section>

      {v.hasFactor ? (
        <section class="card" aria-labelledby="backup-title">
          <h2 id="backup-title">Backup codes</h2>
          <p data-testid="backup-remaining">
            {v.backupCodes.remaining} of {v.backupCodes.total} backup codes left.
          </p>
          {v.backupCodes.low ? <Alert kind="warn">You are running out of backup codes. Create a new set and keep it safe.</Alert> : null}
          <p>
            <a class="button secondary" href="/account/security/backup-codes/new">
              Create new backup codes
            </a>
          </p>
        </section>
      ) : null}

      <section class="card" aria-labelledby="trusted-title">
        <h2 id="trusted-title">Trusted browsers</h2>
        {v.trustedBrowsers.length === 0 ? (
          <p class="muted">No browser skips two-step verification.</p>
        ) : (
          <ul class="items">
            {v.trustedBrowsers.map((b) => (
              <li key={b.id}>
                <div>
                  <div class="name" title={b.userAgent}>
                    {describeUserAgent(b.userAgent)}
                  </div>
                  <div class="meta">
                    {b.ip} · trusted {b.createdAt} · until {b.expiresAt}
                  </div>
                </div>
                <form method="post" action={`/account/security/trusted-browsers/${b.id}/revoke`} class="inline">
                  {csrf}
                  <button type="submit" class="link">
                    Stop trusting
                  </button>
                </form>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="reauth-title">
        <h2 id="reauth-title">Confirm it is you</h2>
        {v.reauthenticated ? (
          <p class="muted">Confirmed. Adding or removing a method, changing a number or email and creating backup codes are unlocked for a few minutes.</p>
        ) : (
          <>
            <p class="muted">
              {v.hasFactor
                ? 'Adding or removing a method, changing a number or email, or creating backup codes needs a fresh code from one of your current methods.'
                : 'Adding a method needs a fresh confirmation with your password.'}
            </p>
            {v.holdsTotp ? (
              <form method="post" action="/account/security/reauthenticate">
                {csrf}
                <input type="hidden" name="method" value="totp" />
                <label for="reauth-code">Code from your authenticator app</label>
                <input id="reauth-code" name="code" type="text" inputMode="numeric" autocomplete="one-time-code" required />
                <button type="submit" class="secondary">
                  Confirm with code
                </button>
              </form>
            ) : null}
            {v.reauthSent ? (
              <form method="post" action="/account/security/reauthenticate">
                {csrf}
                <input type="hidden" name="method" value={v.reauthSent.method} />
                <label for="reauth-sent-code">
                  {v.reauthSent.method === 'sms' ? 'Code from the text message' : 'Code from the email'}
                  {v.reauthSent.sentTo ? ` sent to ${v.reauthSent.sentTo}` : ''}
                </label>
                <input id="reauth-sent-code" name="code" type="text" inputMode="numeric" autocomplete="one-time-code" required />
                <button type="submit" class="secondary">
                  Confirm with sent code
                </button>
              </form>
            ) : null}
            {v.reauthSendable.map((m) => (
              <form key={m} method="post" action="/account/security/reauthenticate/send">
                {csrf}
                <input type="hidden" name="method" value={m} />
                <button type="submit" class="secondary">
                  {v.reauthSent?.method === m ? (m === 'sms' ? 'Text me a new code' : 'Email me a new code') : m === 'sms' ? 'Text me a code' : 'Email me a code'}
                </button>
              </form>
            ))}
            {v.backupCodes.remaining > 0 ? (
              <form method="post" action="/account/security/reauthenticate">
                {csrf}
                <input type="hidden" name="method" value="backup_code" />
                <label for="reauth-backup">Or one of your backup codes</label>
                <input id="reauth-backup" name="code" type="text" autocomplete="off" required />
                <button type="submit" class="secondary">
                  Confirm with backup code
                </button>
              </form>
            ) : null}
            {v.hasFactor ? null : (
              <form method="post" action="/account/security/reauthenticate">
                {csrf}
                <label for="reauth-password">Password</label>
                <input id="reauth-password" name="password" type="password" autocomplete="current-password" required />
                <button type="submit" class="secondary">
                  Confirm with password
                </button>
              </form>
            )}
          </>
        )}
      </section>
    </Layout>
  );
}
