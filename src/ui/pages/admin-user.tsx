import { AdminNav } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { factorTypeLabel } from './admin-users.js';

export interface AdminUserView {
  id: string;
  email: string;
  displayName: string;
  orgName: string;
  disabled: boolean;
  /** The admin is looking at their own account: recovery actions are for other people. */
  self: boolean;
  mustEnrol: boolean;
  /** Already formatted in the viewer's time zone. */
  lastUsedAt: string | null;
  backupCodesLeft: number;
  factors: Array<{ id: string; type: string; label: string; destination: string | null; lastUsedAt: string | null }>;
}

/** Backup codes on show after an action: the stored set (with used ones marked) or a fresh set, shown once. */
export type RevealedCodes = { kind: 'stored'; codes: Array<{ code: string; used: boolean }> } | { kind: 'new'; codes: string[] };

function CodesCard(props: { revealed: RevealedCodes; displayName: string }) {
  const r = props.revealed;
  const fresh = r.kind === 'new';
  return (
    <section class="card" aria-labelledby="revealed-title" data-revealed={r.kind}>
      <h2 id="revealed-title">{fresh ? `New backup codes for ${props.displayName}` : `Backup codes of ${props.displayName}`}</h2>
      <p class="muted">
        {fresh
          ? 'These replace the old set, which no longer works. This is the only time they are shown: hand them over safely now.'
          : 'Each code works once. Used codes are struck through. The user has been told by email that you looked.'}
      </p>
      <ol class="codes">
        {fresh
          ? r.codes.map((c) => (
              <li key={c} data-backup-code>
                {c}
              </li>
            ))
          : r.codes.map((c) =>
              c.used ? (
                <li key={c.code} class="used" data-backup-code data-used="true">
                  <s>{c.code}</s>
                  <span class="visually-hidden"> (used)</span>
                </li>
              ) : (
                <li key={c.code} data-backup-code>
                  {c.code}
                </li>
              ),
            )}
      </ol>
    </section>
  );
}

export function AdminUserPage(props: {
  chrome: PageChrome;
  view: AdminUserView;
  notice?: string | undefined;
  error?: string | undefined;
  revealed?: RevealedCodes | undefined;
}) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const base = `/admin/users/${encodeURIComponent(v.id)}`;
  const hasFactor = v.factors.length > 0;
  return (
    <Layout {...props.chrome}>
      <div class="admin-wide">
        <AdminNav current="users" />
        <p class="crumbs">
          <a href="/admin/users">← All users</a>
        </p>
        <h1 class="page-title">{v.displayName}</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}

        {props.revealed ? <CodesCard revealed={props.revealed} displayName={v.displayName} /> : null}

        <section class="card" aria-labelledby="user-title">
          <h2 id="user-title">Account</h2>
          <dl class="facts">
            <dt>Email</dt>
            <dd data-testid="user-email">{v.email}</dd>
            <dt>Organisation</dt>
            <dd>{v.orgName}</dd>
            <dt>Account</dt>
            <dd data-testid="user-status">{v.disabled ? <span class="badge danger">Disabled</span> : 'Active'}</dd>
            <dt>Two-step verification</dt>
            <dd data-testid="user-2fa">
              {hasFactor ? <span class="badge ok">On</span> : <span class="badge">Off</span>}
              {v.mustEnrol ? (
                <>
                  {' '}
                  <span class="badge warn">Must enrol</span> <span class="muted">Policy requires it: they set it up at their next sign-in.</span>
                </>
              ) : null}
            </dd>
            <dt>Last used</dt>
            <dd>{v.lastUsedAt ?? 'never'}</dd>
            <dt>Backup codes left</dt>
            <dd data-testid="user-backup-left">{v.backupCodesLeft}</dd>
          </dl>
        </section>

        <section class="card" aria-labelledby="factors-title">
          <h2 id="factors-title">Sign-in methods</h2>
          {hasFactor ? (
            <ul class="items" data-testid="user-factors">
              {v.factors.map((f) => (
                <li key={f.id} data-factor-type={f.type}>
                  <div>
                    <div class="name">
                      {f.label} {f.label === factorTypeLabel(f.type) ? null : <span class="badge">{factorTypeLabel(f.type)}</span>}
                    </div>
                    <div class="meta">
                      {f.destination ? `${f.destination} · ` : ''}last used {f.lastUsedAt ?? 'never'}
                    </div>
                  </div>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No method is set up.</p>
          )}
          <p class="hint">Only the user can set up a method, so that nobody else ever holds their secret. You can take methods away, not add them.</p>
        </section>

        {v.self ? (
          <section class="card">
            <p class="muted">
              This is your own account. Manage your methods and backup codes on <a href="/account/security">your security page</a>.
            </p>
          </section>
        ) : (
          <>
            {hasFactor ? (
              <section class="card" aria-labelledby="backup-title">
                <h2 id="backup-title">Backup codes</h2>
                <p class="muted">For a user who is locked out: read them a code, or give them a new set. Either way they are told by email.</p>
                <div class="actions">
                  <form method="post" action={`${base}/backup-codes/show`} class="inline">
                    {csrf}
                    <button type="submit" class="secondary">
                      Show backup codes
                    </button>
                  </form>
                  <form method="post" action={`${base}/backup-codes`} class="inline">
                    {csrf}
                    <button type="submit" class="secondary">
                      Generate new backup codes
                    </button>
                  </form>
                </div>
              </section>
            ) : null}

            <section class="card danger-zone" aria-labelledby="reset-title">
              <h2 id="reset-title">Reset factors</h2>
              <p>For a lost phone: removes every sign-in method, backup code and trusted browser of {v.displayName}, and signs them out everywhere. They set up a new method at their next sign-in.</p>
              <form method="post" action={`${base}/reset-factors`}>
                {csrf}
                <label class="check">
                  <input type="checkbox" name="confirm" value="yes" required /> I understand that this removes everything and cannot be undone
                </label>
                <button type="submit" class="danger">
                  Reset factors
                </button>
              </form>
            </section>

            <section class="card" aria-labelledby="status-title">
              <h2 id="status-title">{v.disabled ? 'Enable account' : 'Disable account'}</h2>
              <p class="muted">
                {v.disabled ? 'Lets them sign in again with what they had before.' : 'Refuses their sign-ins and ends their sessions until you enable the account again.'}
              </p>
              <form method="post" action={`${base}/${v.disabled ? 'enable' : 'disable'}`} class="single">
                {csrf}
                <button type="submit" class={v.disabled ? 'secondary' : 'danger'}>
                  {v.disabled ? 'Enable' : 'Disable'}
                </button>
              </form>
            </section>
          </>
        )}
      </div>
    </Layout>
  );
}
