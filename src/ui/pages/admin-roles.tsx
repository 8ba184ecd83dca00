import type { ManagedOrganisation } from '../admin-nav.js';
import { AdminNav, OrganisationPicker } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface AdminRolesView {
  organisations: ManagedOrganisation[];
  orgId: string;
  orgName: string;
  roles: Array<{ id: string; name: string; requireTwoFactor: boolean; requirePhishingResistant: boolean; holders: number; protected: boolean }>;
  groups: Array<{ id: string; name: string; roles: Array<{ id: string; name: string }>; members: Array<{ id: string; email: string; displayName: string }> }>;
  people: Array<{ id: string; email: string; displayName: string }>;
}

const people = (n: number) => (n === 1 ? '1 person' : `${n} people`);

/** Roles and groups of one organisation: create, rename, delete, require 2FA per role, grant roles to groups, members. */
export function AdminRolesPage(props: { chrome: PageChrome; view: AdminRolesView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const org = <input type="hidden" name="org" value={v.orgId} />;
  return (
    <Layout {...props.chrome}>
      <div class="admin-wide">
        <AdminNav current="roles" />
        <h1 class="page-title">Roles and groups</h1>
        <p class="lead">Roles of {v.orgName}: give them to people (on each person's page) or to groups, and require two-step verification for everyone who holds one.</p>
        <OrganisationPicker action="/admin/roles" organisations={v.organisations} selected={v.orgId} />
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}

        <section class="card" aria-labelledby="roles-title">
          <h2 id="roles-title">Roles</h2>
          {v.roles.length === 0 ? <p class="muted">No role yet.</p> : null}
          <ul class="items" data-testid="roles">
            {v.roles.map((r) => (
              <li key={r.id} data-role={r.name}>
                <div>
                  <div class="name">
                    {r.name} {r.requireTwoFactor ? <span class="badge ok">2FA required</span> : null} {r.requirePhishingResistant ? <span class="badge ok">Security key required</span> : null}
                  </div>
                  <div class="meta">Held by {people(r.holders)}{r.protected ? ' · lets people manage the organisation; cannot be renamed or deleted' : ''}</div>
                  {r.requireTwoFactor ? (
                    <div class="meta">
                      {r.requirePhishingResistant ? 'Only a security key or passkey is accepted.' : 'Any allowed method is accepted.'} <a href={`/admin/policy?org=${encodeURIComponent(v.orgId)}`}>Change on the policy page</a>
                    </div>
                  ) : null}
                </div>
                <div class="actions">
                  <form method="post" action={`/admin/roles/${encodeURIComponent(r.id)}/requirement`} class="inline">
                    {csrf}
                    {org}
                    <input type="hidden" name="requireTwoFactor" value={r.requireTwoFactor ? 'no' : 'yes'} />
                    <button type="submit" class="secondary">
                      {r.requireTwoFactor ? `Stop requiring 2FA for ${r.name}` : `Require 2FA for ${r.name}`}
                    </button>
                  </form>
                  {r.protected ? null : (
                    <>
                      <form method="post" action={`/admin/roles/${encodeURIComponent(r.id)}/rename`} class="inline">
                        {csrf}
                        {org}
                        <label for={`rename-role-${r.id}`} class="visually-hidden">
                          New name for {r.name}
                        </label>
                        <input id={`rename-role-${r.id}`} name="name" type="text" required maxLength={64} value={r.name} />
                        <button type="submit" class="secondary">
                          Rename
                        </button>
                      </form>
                      <form method="post" action={`/admin/roles/${encodeURIComponent(r.id)}/delete`} class="inline">
                        {csrf}
                        {org}
                        <button type="submit" class="danger">
                          Delete {r.name}
                        </button>
                      </form>
                    </>
                  )}
                </div>
              </li>
            ))}
          </ul>
          <form method="post" action="/admin/roles" class="single">
            {csrf}
            {org}
            <label for="new-role">New role</label>
            <input id="new-role" name="name" type="text" required maxLength={64} aria-describedby="new-role-help" />
            <p class="hint" id="new-role-help">
              Letters, digits, dots, dashes or underscores, e.g. finance or support.lead.
            </p>
            <button type="submit">Create role</button>
          </form>
        </section>

        <section class="card" aria-labelledby="groups-title">
          <h2 id="groups-title">Groups</h2>
          <p class="muted">Everyone in a group holds the group's roles.</p>
          {v.groups.length === 0 ? <p class="muted">No group yet.</p> : null}
          {v.groups.map((g) => (
            <section key={g.id} class="group" data-group={g.name} aria-labelledby={`group-${g.id}`}>
              <h3 id={`group-${g.id}`}>{g.name}</h3>
              <p class="meta">
                Roles: {g.roles.length === 0 ? 'none' : g.roles.map((r) => r.name).join(', ')} · {people(g.members.length)}
              </p>
              <ul class="items">
                {g.roles.map((r) => (
                  <li key={r.id}>
                    <span>Role {r.name}</span>
                    <form method="post" action={`/admin/groups/${encodeURIComponent(g.id)}/roles`} class="inline">
                      {csrf}
                      {org}
                      <input type="hidden" name="roleId" value={r.id} />
                      <input type="hidden" name="action" value="revoke" />
                      <button type="submit" class="secondary">
                        Take {r.name} from {g.name}
                      </button>
                    </form>
                  </li>
                ))}
                {g.members.map((m) => (
                  <li key={m.id}>
                    <span>
                      {m.displayName} <span class="muted">{m.email}</span>
                    </span>
                    <form method="post" action={`/admin/groups/${encodeURIComponent(g.id)}/members`} class="inline">
                      {csrf}
                      {org}
                      <input type="hidden" name="userId" value={m.id} />
                      <input type="hidden" name="action" value="remove" />
                      <button type="submit" class="secondary">
                        Remove {m.email} from {g.name}
                      </button>
                    </form>
                  </li>
                ))}
              </ul>
              <div class="actions">
                {v.roles.length > 0 ? (
                  <form method="post" action={`/admin/groups/${encodeURIComponent(g.id)}/roles`} class="inline">
                    {csrf}
                    {org}
                    <input type="hidden" name="action" value="grant" />
                    <label for={`grant-${g.id}`}>Give {g.name} the role</label>
                    <select id={`grant-${g.id}`} name="roleId">
                      {v.roles.map((r) => (
                        <option key={r.id} value={r.id}>
                          {r.name}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="secondary">
                      Grant role
                    </button>
                  </form>
                ) : null}
                {v.people.length > 0 ? (
                  <form method="post" action={`/admin/groups/${encodeURIComponent(g.id)}/members`} class="inline">
                    {csrf}
                    {org}
                    <input type="hidden" name="action" value="add" />
                    <label for={`member-${g.id}`}>Add to {g.name}</label>
                    <select id={`member-${g.id}`} name="userId">
                      {v.people.map((p) => (
                        <option key={p.id} value={p.id}>
                          {`${p.displayName} (${p.email})`}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="secondary">
                      Add member
                    </button>
                  </form>
                ) : null}
                <form method="post" action={`/admin/groups/${encodeURIComponent(g.id)}/rename`} class="inline">
                  {csrf}
                  {org}
                  <label for={`rename-group-${g.id}`}>Rename {g.name}</label>
                  <input id={`rename-group-${g.id}`} name="name" type="text" required maxLength={100} value={g.name} />
                  <button type="submit" class="secondary">
                    Rename
                  </button>
                </form>
                <form method="post" action={`/admin/groups/${encodeURIComponent(g.id)}/delete`} class="inline">
                  {csrf}
                  {org}
                  <button type="submit" class="danger">
                    Delete {g.name}
                  </button>
                </form>
              </div>
            </section>
          ))}
          <form method="post" action="/admin/groups" class="single">
            {csrf}
            {org}
            <label for="new-group">New group</label>
            <input id="new-group" name="name" type="text" required maxLength={100} />
            <button type="submit">Create group</button>
          </form>
        </section>
      </div>
    </Layout>
  );
}

/** The step before saving a role's requirement: how many people it sends to enrolment, then confirm. */
export function RoleRequirementConfirmPage(props: { chrome: PageChrome; orgId: string; role: { id: string; name: string }; requireTwoFactor: boolean; holders: number; forcedToEnrol: number }) {
  const p = props;
  return (
    <Layout {...p.chrome}>
      <div class="admin-wide">
        <AdminNav current="roles" />
        <section class="card narrow" aria-labelledby="confirm-title">
          <h1 id="confirm-title">{p.requireTwoFactor ? `Require 2FA for ${p.role.name}?` : `Stop requiring 2FA for ${p.role.name}?`}</h1>
          {p.requireTwoFactor ? (
            <p data-testid="forced-to-enrol">
              {p.forcedToEnrol === 0
                ? `Nobody has to set up anything new: all ${people(p.holders)} holding ${p.role.name} already use two-step verification or must already enrol.`
                : `This makes ${people(p.forcedToEnrol)} set up two-step verification at their next sign-in (of ${people(p.holders)} holding ${p.role.name}). They cannot get in without it.`}
            </p>
          ) : (
            <p>People holding {p.role.name} will no longer need two-step verification because of this role (other rules may still require it).</p>
          )}
          <form method="post" action={`/admin/roles/${encodeURIComponent(p.role.id)}/requirement`}>
            <CsrfField token={p.chrome.csrf} />
            <input type="hidden" name="org" value={p.orgId} />
            <input type="hidden" name="requireTwoFactor" value={p.requireTwoFactor ? 'yes' : 'no'} />
            <input type="hidden" name="confirm" value="yes" />
            <button type="submit">{p.requireTwoFactor ? 'Require 2FA' : 'Stop requiring 2FA'}</button>
          </form>
          <p>
            <a href={`/admin/roles?org=${encodeURIComponent(p.orgId)}`}>Cancel</a>
          </p>
        </section>
      </div>
    </Layout>
  );
}
