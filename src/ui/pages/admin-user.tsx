import type { ManagedOrganisation } from '../admin-nav.js';
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
  /** Added by invitation and not accepted yet: no password, cannot sign in. */
  invited?: boolean | undefined;
  /** What the edit form offers; absent, the page shows no edit form. */
  edit?: UserEditChoices | undefined;
}

export interface UserEditChoices {
  orgId: string;
  organisations: ManagedOrganisation[];
  /** Roles and groups of the person's organisation, with whether they hold each directly. */
  roles: Array<{ id: string; name: string; held: boolean }>;
  groups: Array<{ id: string; name: string; held: boolean }>;
}

/** Name, organisation, roles and groups. Moving someone to another organisation drops the roles and groups of the old one. */
function EditCard(props: { csrf: string; base: string; displayName: string; choices: UserEditChoices }) {
  const c = props.choices;
  return (
    <section class="card" aria-labelledby="edit-title">
      <h2 id="edit-title">Name, organisation, roles and groups</h2>
      <form method="post" action={`${props.base}/edit`}>
        <CsrfField token={props.csrf} />
        <label for="edit-name">Name</label>
        <input id="edit-name" name="displayName" type="text" required maxLength={200} value={props.displayName} />
        {c.organisations.length > 1 ? (
          <>
            <label for="edit-org">Organisation</label>
            <select id="edit-org" name="org" aria-describedby="edit-org-help">
              {c.organisations.map((o) => (
                <option key={o.id} value={o.id} selected={o.id === c.orgId}>
                  {`${'\u2003'.repeat(o.depth)}${o.name}`}
                </option>
              ))}
            </select>
            <p class="hint" id="edit-org-help">
              Moving them removes the roles and groups of their current organisation.
            </p>
          </>
        ) : (
          <input type="hidden" name="org" value={c.orgId} />
        )}
        <fieldset>
          <legend>Roles</legend>
          {c.roles.length === 0 ? <p class="muted">This organisation has no roles yet.</p> : null}
          {c.roles.map((r) => (
            <label key={r.id} class="check">
              <input type="checkbox" name={`role_${r.id}`} value="on" checked={r.held} /> {r.name}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Groups</legend>
          {c.groups.length === 0 ? <p class="muted">This organisation has no groups yet.</p> : null}
          {c.groups.map((g) => (
            <label key={g.id} class="check">
              <input type="checkbox" name={`group_${g.id}`} value="on" checked={g.held} /> {g.name}
            </label>
          ))}
        </fieldset>
        <button type="submit">Save changes</button>
      </form>
      <p class="hint">
        <a href={`/admin/roles?org=${encodeURIComponent(c.orgId)}`}>Manage roles and groups</a>
      </p>
    </section>
  );
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
            <dd data-testid="user-status">{v.disabled ? <span class="badge danger">Disabled</span> : v.invited ? <span class="badge warn">Invited</span> : 'Active'}</dd>
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
                  {v.self ? null : (
                    <form method="post" action={`${base}/factors/${encodeURIComponent(f.id)}/remove`} class="inline">
                      {csrf}
                      <button type="submit" class="secondary">
                        Switch off {f.label}
                      </button>
                    </form>
                  )}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No method is set up.</p>
          )}
          <p class="hint">Only the user can set up a method, so that nobody else ever holds their secret. You can take methods away, not add them. Switching one off signs them out everywhere and emails them.</p>
        </section>

        {v.invited && !v.self ? (
          <section class="card" aria-labelledby="invitation-title">
            <h2 id="invitation-title">Invitation</h2>
            <p class="muted">{v.displayName} has not chosen a password yet. Send a new link (the old one stops working), or withdraw the invitation (the pending account is removed).</p>
            <div class="actions">
              <form method="post" action={`${base}/invitation/resend`} class="inline">
                {csrf}
                <button type="submit" class="secondary">
                  Send a new invitation
                </button>
              </form>
              <form method="post" action={`${base}/invitation/revoke`} class="inline">
                {csrf}
                <button type="submit" class="danger">
                  Withdraw invitation
                </button>
              </form>
            </div>
          </section>
        ) : null}

        {v.edit ? <EditCard csrf={props.chrome.csrf} base={base} displayName={v.displayName} choices={v.edit} /> : null}

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

            {v.invited ? null : (
            <section class="card danger-zone" aria-labelledby="reset-title">
              <h2 id="reset-title">Reset factors</h2>
              <p>For a lost phone: removes every sign-in method, backup code and trusted browser of {v.displayName}, and signs them out everywhere. Their next sign-in with the password asks them to set up a new method: before they get in where policy requires two-step verification, otherwise with the choice to skip it. They are emailed what happened and what comes next.</p>
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
            )}

            <section class="card danger-zone" aria-labelledby="delete-title">
              <h2 id="delete-title">Delete account</h2>
              <p>Removes {v.displayName} with their sessions, sign-in methods, backup codes, trusted browsers and devices. The audit log keeps their id and email.</p>
              <form method="post" action={`${base}/delete`}>
                {csrf}
                <label class="check">
                  <input type="checkbox" name="confirm" value="yes" required /> I understand that the account is deleted for good
                </label>
                <button type="submit" class="danger">
                  Delete account
                </button>
              </form>
            </section>

            {v.invited ? null : (
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
            )}
          </>
        )}
      </div>
    </Layout>
  );
}
