import type { ManagedOrganisation } from '../admin-nav.js';
import { AdminNav, OrganisationPicker } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface AdminClientRow {
  id: string;
  name: string;
  public: boolean;
  redirectUris: string[];
  scopes: string[];
  requireTwoFactor: boolean;
  audience: 'organisation' | 'everyone';
}

export interface ClientFormValues {
  name?: string | undefined;
  redirectUris?: string | undefined;
  postLogoutRedirectUris?: string | undefined;
  public?: boolean | undefined;
  scopes?: string[] | undefined;
  requireTwoFactor?: boolean | undefined;
  audience?: 'organisation' | 'everyone' | undefined;
}

export interface AdminClientsView {
  organisations: ManagedOrganisation[];
  orgId: string;
  orgName: string;
  /** Only an admin of a top-level organisation may open an app to everyone. */
  mayOpenToEveryone: boolean;
  clients: AdminClientRow[];
  allScopes: readonly string[];
  issuer: string;
  values: ClientFormValues;
  /** A client just created or given a new secret: the secret is shown this once. */
  revealed?: { clientId: string; name: string; secret: string | null } | undefined;
}

/** Apps that sign people in through Twofold with OpenID Connect, and the form to register one. */
export function AdminClientsPage(props: { chrome: PageChrome; view: AdminClientsView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const scopes = v.values.scopes ?? [...v.allScopes];
  return (
    <Layout {...props.chrome}>
      <AdminNav current="clients" />
      <h1 class="page-title">Apps (OpenID Connect)</h1>
      <OrganisationPicker action="/admin/clients" organisations={v.organisations} selected={v.orgId} />
      {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
      {props.error ? <Alert kind="error">{props.error}</Alert> : null}
      {v.revealed ? (
        <section class="card" aria-labelledby="revealed-title" data-testid="client-credentials">
          <h2 id="revealed-title">Credentials for {v.revealed.name}</h2>
          <dl class="facts">
            <dt>Issuer</dt>
            <dd>
              <code>{v.issuer}</code>
            </dd>
            <dt>Client ID</dt>
            <dd>
              <code data-testid="client-id">{v.revealed.clientId}</code>
            </dd>
            {v.revealed.secret ? (
              <>
                <dt>Client secret</dt>
                <dd>
                  <code class="secret" data-testid="client-secret">
                    {v.revealed.secret}
                  </code>
                </dd>
              </>
            ) : null}
          </dl>
          {v.revealed.secret ? <Alert kind="warn">This is the only time the secret is shown. Store it in the app's configuration now.</Alert> : <p class="muted">A public client has no secret; it must use PKCE.</p>}
        </section>
      ) : null}
      <section class="card" aria-labelledby="clients-title">
        <h2 id="clients-title">Apps of {v.orgName}</h2>
        {v.clients.length === 0 ? (
          <p class="muted">No apps yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="users">
              <thead>
                <tr>
                  <th scope="col">App</th>
                  <th scope="col">Redirect URIs</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {v.clients.map((c) => (
                  <tr key={c.id} data-client-id={c.id}>
                    <td>
                      <div class="name">{c.name}</div>
                      <div class="meta">
                        <code>{c.id}</code>
                      </div>
                      <div class="meta">
                        {c.public ? 'Public (PKCE, no secret)' : 'Confidential'}
                        {c.requireTwoFactor ? ' · requires two-step verification' : ''}
                      </div>
                      <div class="meta" data-testid="client-audience">
                        {c.audience === 'everyone' ? 'Open to everyone' : `Only people of ${v.orgName} and its sub-organisations`}
                      </div>
                    </td>
                    <td>
                      {c.redirectUris.map((u) => (
                        <div key={u} class="meta">
                          {u}
                        </div>
                      ))}
                    </td>
                    <td class="meta">{c.scopes.join(' ')}</td>
                    <td>
                      {c.public ? null : (
                        <form method="post" action={`/admin/clients/${encodeURIComponent(c.id)}/secret`}>
                          {csrf}
                          <input type="hidden" name="org" value={v.orgId} />
                          <button type="submit" class="secondary">
                            New secret
                          </button>
                        </form>
                      )}
                      <form method="post" action={`/admin/clients/${encodeURIComponent(c.id)}/delete`}>
                        {csrf}
                        <input type="hidden" name="org" value={v.orgId} />
                        <button type="submit" class="secondary">
                          Delete
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="new-client-title">
        <h2 id="new-client-title">Register an app</h2>
        <form method="post" action="/admin/clients">
          {csrf}
          <input type="hidden" name="org" value={v.orgId} />
          <label for="client-name">Name</label>
          <input id="client-name" name="name" type="text" maxLength={80} required value={v.values.name ?? ''} />
          <label for="client-redirect">Redirect URIs</label>
          <input id="client-redirect" name="redirectUris" type="text" required value={v.values.redirectUris ?? ''} aria-describedby="client-redirect-help" />
          <p class="hint" id="client-redirect-help">
            Exact URLs the app receives the sign-in at, separated by spaces. https, or http on localhost.
          </p>
          <label for="client-logout">After sign-out URIs (optional)</label>
          <input id="client-logout" name="postLogoutRedirectUris" type="text" value={v.values.postLogoutRedirectUris ?? ''} />
          <fieldset class="choices">
            <legend>Kind of app</legend>
            <label class="check">
              <input type="radio" name="kind" value="confidential" checked={!v.values.public} /> Confidential: a server that can keep a secret
            </label>
            <label class="check">
              <input type="radio" name="kind" value="public" checked={v.values.public === true} /> Public: a browser or mobile app (no secret, PKCE)
            </label>
          </fieldset>
          <fieldset class="choices">
            <legend>Scopes it may ask for</legend>
            {v.allScopes.map((s) => (
              <label class="check" key={s}>
                <input type="checkbox" name={`scope_${s}`} value="1" checked={scopes.includes(s)} disabled={s === 'openid'} /> {s}
              </label>
            ))}
          </fieldset>
          {v.mayOpenToEveryone ? (
            <fieldset class="choices">
              <legend>Who may sign in to it</legend>
              <label class="check">
                <input type="radio" name="audience" value="organisation" checked={v.values.audience !== 'everyone'} /> People of {v.orgName} and its sub-organisations
              </label>
              <label class="check">
                <input type="radio" name="audience" value="everyone" checked={v.values.audience === 'everyone'} /> Everyone with an account here: an app shared by several organisations
              </label>
            </fieldset>
          ) : (
            <p class="hint">It signs in people of {v.orgName} and its sub-organisations.</p>
          )}
          <p class="hint">The ID token carries each person's organisation (the org_id claim), so a shared app can tell them apart.</p>
          <label class="check">
            <input type="checkbox" name="requireTwoFactor" value="1" checked={v.values.requireTwoFactor === true} /> Require two-step verification for this app
          </label>
          <p class="hint">Everyone signing in to it passes a second factor, whatever their organisation's policy; people without one set it up first.</p>
          <div class="actions">
            <button type="submit">Register</button>
          </div>
        </form>
      </section>
    </Layout>
  );
}
