import type { ManagedOrganisation } from '../admin-nav.js';
import { OrganisationPicker } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface DeployApiKeysView {
  organisations: ManagedOrganisation[];
  orgId: string;
  orgName: string;
  keys: ApiKeyRow[];
  scopes: ReadonlyArray<{ scope: string; description: string }>;
  /** A key just created: shown this once. */
  revealed?: { name: string; key: string } | undefined;
  values?: { name?: string | undefined; scopes?: string[] | undefined } | undefined;
}

/** API keys for pipelines and apps that add changes and read or make deployments (admins). */
export function DeployApiKeysPage(props: { chrome: PageChrome; view: DeployApiKeysView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const chosen = new Set(v.values?.scopes ?? ['changes:write']);
  return (
    <Layout {...props.chrome}>
      <div class="deploy-wide">
        <p class="crumbs">
          <a href="/deploy">Deploy targets</a>
        </p>
        <h1 class="page-title">API keys</h1>
        <OrganisationPicker action="/deploy/api-keys" organisations={v.organisations} selected={v.orgId} />
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.revealed ? (
          <section class="card" aria-labelledby="revealed-key-title">
            <h2 id="revealed-key-title">{v.revealed.name}</h2>
            <p>
              <code class="secret" data-testid="api-key">
                {v.revealed.key}
              </code>
            </p>
            <Alert kind="warn">This is the only time the key is shown; Twofold keeps only a hash. Put it in your pipeline's secrets now, sent as "Authorization: Bearer &lt;key&gt;".</Alert>
          </section>
        ) : null}
        <section class="card" aria-labelledby="keys-title">
          <h2 id="keys-title">Keys of {v.orgName}</h2>
          {v.keys.length === 0 ? (
            <p class="muted">No API keys yet.</p>
          ) : (
            <ul class="items">
              {v.keys.map((k) => (
                <li key={k.id} data-api-key={k.id}>
                  <div class="grow">
                    <span class="name">{k.name}</span> {k.revokedAt ? <span class="badge danger">Revoked</span> : null}
                    <div class="meta">
                      <code>{k.prefix}…</code> · {k.scopes.join(', ')}
                    </div>
                    <div class="meta">
                      Created {k.createdAt} · {k.lastUsedAt ? `last used ${k.lastUsedAt}` : 'never used'}
                      {k.revokedAt ? ` · revoked ${k.revokedAt}` : ''}
                    </div>
                  </div>
                  {k.revokedAt ? null : (
                    <form method="post" action={`/deploy/api-keys/${encodeURIComponent(k.id)}/revoke`}>
                      {csrf}
                      <input type="hidden" name="org" value={v.orgId} />
                      <button type="submit" class="secondary" aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </button>
                    </form>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="new-key-title">
          <h2 id="new-key-title">New API key</h2>
          <form method="post" action="/deploy/api-keys">
            {csrf}
            <input type="hidden" name="org" value={v.orgId} />
            <label for="key-name">Name</label>
            <input id="key-name" name="name" type="text" required maxLength={80} value={v.values?.name ?? ''} autocomplete="off" placeholder="CI pipeline" />
            <fieldset class="choices">
              <legend>May</legend>
              {v.scopes.map((s) => (
                <label class="check" key={s.scope}>
                  <input type="checkbox" name={`scope:${s.scope}`} checked={chosen.has(s.scope)} /> {s.description} <code>{s.scope}</code>
                </label>
              ))}
            </fieldset>
            <button type="submit">Create key</button>
          </form>
        </section>
      </div>
    </Layout>
  );
}
