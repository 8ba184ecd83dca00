import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { describeUserAgent } from '../user-agent.js';

export interface SecurityView {
  factors: Array<{ id: string; label: string; type: string; createdAt: string; lastUsedAt: string | null }>;
  backupCodes: { remaining: number; total: number; low: boolean };
  trustedBrowsers: Array<{ id: string; userAgent: string; ip: string; createdAt: string; expiresAt: string }>;
  /** Whether sensitive actions are unlocked right now (recent re-authentication). */
  reauthenticated: boolean;
  hasFactor: boolean;
}

export function SecurityPage(props: { chrome: PageChrome; view: SecurityView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  return (
    <Layout {...props.chrome}>
      <h1 class="page-title">Security</h1>
      {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
      {props.error ? <Alert kind="error">{props.error}</Alert> : null}

      <section class="card" aria-labelledby="factors-title">
        <h2 id="factors-title">Two-step verification</h2>
        {v.factors.length === 0 ? (
          <p class="status">
            <span class="badge">Off</span> <span>Add an authenticator app so a stolen password alone cannot open your account.</span>
          </p>
        ) : (
          <ul class="items">
            {v.factors.map((f) => (
              <li key={f.id}>
                <div>
                  <div class="name">
                    {f.label} <span class="badge ok">On</span>
                  </div>
                  <div class="meta">
                    Added {f.createdAt} · last used {f.lastUsedAt ?? 'never'}
                  </div>
                </div>
                <form method="post" action={`/account/security/factors/${f.id}/remove`} class="inline">
                  {csrf}
                  <button type="submit" class="link" aria-label={`Remove ${f.label}`}>
                    Remove
                  </button>
                </form>
              </li>
            ))}
          </ul>
        )}
        <form method="post" action="/account/security/totp">
          {csrf}
          <label for="label">
            New authenticator name <span class="optional">(optional)</span>
          </label>
          <input id="label" name="label" type="text" maxLength={64} placeholder="Phone" />
          <button type="submit">Add authenticator app</button>
        </form>
      </section>

      {v.hasFactor ? (
        <section class="card" aria-labelledby="backup-title">
          <h2 id="backup-title">Backup codes</h2>
          <p data-testid="backup-remaining">
            {v.backupCodes.remaining} of {v.backupCodes.total} backup codes left.
          </p>
          {v.backupCodes.low ? <Alert kind="warn">You are running out of backup codes. Create a new set and keep it safe.</Alert> : null}
          <form method="post" action="/account/security/backup-codes" class="single">
            {csrf}
            <button type="submit" class="secondary">
              Create new backup codes
            </button>
          </form>
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
          <p class="muted">Confirmed. Removing a factor and creating backup codes are unlocked for a few minutes.</p>
        ) : (
          <>
            <p class="muted">Removing a factor or creating backup codes needs a fresh confirmation.</p>
            {v.hasFactor ? (
              <form method="post" action="/account/security/reauthenticate">
                {csrf}
                <label for="reauth-code">Code from your authenticator app</label>
                <input id="reauth-code" name="code" type="text" inputMode="numeric" autocomplete="one-time-code" required />
                <button type="submit" class="secondary">
                  Confirm with code
                </button>
              </form>
            ) : null}
            <form method="post" action="/account/security/reauthenticate">
              {csrf}
              <label for="reauth-password">{v.hasFactor ? 'Or your password' : 'Password'}</label>
              <input id="reauth-password" name="password" type="password" autocomplete="current-password" required />
              <button type="submit" class="secondary">
                Confirm with password
              </button>
            </form>
          </>
        )}
      </section>
    </Layout>
  );
}
