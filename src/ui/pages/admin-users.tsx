import type { ManagedOrganisation } from '../admin-nav.js';
import { AdminNav } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { METHOD_LABELS } from './enrol-code.js';

/** One set of names for the methods, the same the person sees on their own pages. */
export const factorTypeLabel = (type: string) => METHOD_LABELS[type] ?? type;

export interface AdminUserRow {
  id: string;
  email: string;
  displayName: string;
  orgName: string;
  disabled: boolean;
  /** Added by invitation and not accepted yet. */
  invited?: boolean | undefined;
  /** Kinds of active factors, as stored ("totp", "sms", "email"). */
  methods: string[];
  /** Already formatted in the viewer's time zone. */
  lastUsedAt: string | null;
  backupCodesLeft: number;
  mustEnrol: boolean;
}

export interface AdminUsersView {
  organisations: ManagedOrganisation[];
  orgId: string;
  orgName: string;
  query: string;
  noTwoFactor: boolean;
  users: AdminUserRow[];
  /** Link to the next page, when there is one. */
  nextHref: string | null;
  /** Link back to the first page, when this is a later one. */
  firstHref: string | null;
}

/** What the invite form shows again after a refusal. */
export interface InviteForm {
  email?: string | undefined;
  displayName?: string | undefined;
  orgId?: string | undefined;
  error?: string | undefined;
}

/** Invites a person: they get an email with a link to choose their password. */
function InviteCard(props: { csrf: string; organisations: ManagedOrganisation[]; orgId: string; form: InviteForm }) {
  const f = props.form;
  const selected = f.orgId ?? props.orgId;
  return (
    <section class="card" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a person</h2>
      <p class="muted">They get an email with a link to choose their password (it works once, for 7 days), then sign in; if policy requires it they set up two-step verification then.</p>
      {f.error ? <Alert kind="error">{f.error}</Alert> : null}
      <form method="post" action="/admin/users/invite" class="single">
        <CsrfField token={props.csrf} />
        <label for="invite-email">Email</label>
        <input id="invite-email" name="email" type="email" required maxLength={254} autocomplete="off" value={f.email ?? ''} />
        <label for="invite-name">Name (optional)</label>
        <input id="invite-name" name="displayName" type="text" maxLength={200} autocomplete="off" value={f.displayName ?? ''} />
        {props.organisations.length > 1 ? (
          <>
            <label for="invite-org">Organisation</label>
            <select id="invite-org" name="org">
              {props.organisations.map((o) => (
                <option key={o.id} value={o.id} selected={o.id === selected}>
                  {`${'\u2003'.repeat(o.depth)}${o.name}`}
                </option>
              ))}
            </select>
          </>
        ) : (
          <input type="hidden" name="org" value={selected} />
        )}
        <button type="submit">Send invitation</button>
      </form>
    </section>
  );
}

/** The status cell: which methods a user holds, or that they hold none (and whether policy will make them enrol). */
function TwoFactorCell(props: { user: AdminUserRow }) {
  const u = props.user;
  if (u.methods.length === 0) {
    return (
      <>
        <span class="badge">None</span>
        {u.mustEnrol ? (
          <>
            {' '}
            <span class="badge warn" title="Policy requires two-step verification: they must set it up at their next sign-in.">
              Must enrol
            </span>
          </>
        ) : null}
      </>
    );
  }
  return (
    <ul class="tags">
      {u.methods.map((m) => (
        <li key={m} class="badge ok" data-method={m}>
          {factorTypeLabel(m)}
        </li>
      ))}
    </ul>
  );
}

export function AdminUsersPage(props: { chrome: PageChrome; view: AdminUsersView; invite?: InviteForm | undefined }) {
  const v = props.view;
  const manyOrgs = v.organisations.length > 1;
  return (
    <Layout {...props.chrome}>
      <div class="admin-wide">
        <AdminNav current="users" />
        <h1 class="page-title">Users</h1>
        <p class="lead">Two-step verification status of the people in {v.orgName}{manyOrgs ? ' and the organisations below it' : ''}.</p>

        <form method="get" action="/admin/users" class="card filters" role="search">
          {manyOrgs ? (
            <>
              <label for="users-org">Organisation</label>
              <select id="users-org" name="org">
                {v.organisations.map((o) => (
                  <option key={o.id} value={o.id} selected={o.id === v.orgId}>
                    {`${'\u2003'.repeat(o.depth)}${o.name}`}
                  </option>
                ))}
              </select>
            </>
          ) : (
            <input type="hidden" name="org" value={v.orgId} />
          )}
          <label for="users-q">Search by name or email</label>
          <input id="users-q" name="q" type="text" maxLength={254} value={v.query} autocomplete="off" />
          <label class="check">
            <input type="checkbox" name="filter" value="no_2fa" checked={v.noTwoFactor} /> Only users without two-step verification
          </label>
          <button type="submit">Show users</button>
        </form>

        <InviteCard csrf={props.chrome.csrf} organisations={v.organisations} orgId={v.orgId} form={props.invite ?? {}} />

        <section class="card" aria-labelledby="users-title">
          <h2 id="users-title">{v.noTwoFactor ? 'Users without two-step verification' : 'All users'}</h2>
          {v.users.length === 0 ? (
            <p class="muted">No user matches.</p>
          ) : (
            <div class="table-wrap">
              <table class="users">
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    {manyOrgs ? <th scope="col">Organisation</th> : null}
                    <th scope="col">Two-step verification</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Backup codes left</th>
                    <th scope="col">Account</th>
                  </tr>
                </thead>
                <tbody>
                  {v.users.map((u) => (
                    <tr key={u.id} data-user-id={u.id}>
                      <td>
                        <a href={`/admin/users/${encodeURIComponent(u.id)}`} class="name">
                          {u.displayName}
                        </a>
                        <div class="meta">{u.email}</div>
                      </td>
                      {manyOrgs ? <td>{u.orgName}</td> : null}
                      <td>
                        <TwoFactorCell user={u} />
                      </td>
                      <td>{u.lastUsedAt ?? <span class="muted">never</span>}</td>
                      <td>{u.methods.length === 0 && u.backupCodesLeft === 0 ? <span class="muted">—</span> : u.backupCodesLeft}</td>
                      <td>{u.disabled ? <span class="badge danger">Disabled</span> : u.invited ? <span class="badge warn">Invited</span> : <span class="muted">Active</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {v.nextHref || v.firstHref ? (
            <nav class="pager" aria-label="Pages">
              {v.firstHref ? <a href={v.firstHref}>First page</a> : null}
              {v.nextHref ? (
                <a href={v.nextHref} rel="next">
                  Next page
                </a>
              ) : null}
            </nav>
          ) : null}
          {v.users.some((u) => u.mustEnrol) ? (
            <Alert kind="info">Users marked “Must enrol” have no method yet although policy requires one: they are asked to set it up at their next sign-in.</Alert>
          ) : null}
        </section>
      </div>
    </Layout>
  );
}
