import type { PageChrome } from '../layout.js';
import { Alert, Layout } from '../layout.js';
import { TargetBadges, shortDigest } from './deploys.js';

export interface PendingChangeRow {
  id: number;
  key: string;
  summary: string;
  author: string;
  at: string;
  /** The entry before and after the change (canonical JSON; null when absent), shown on Deploy Now. */
  oldValue?: string | null | undefined;
  newValue?: string | null | undefined;
}

/** Values longer than this are folded: the start shows, the whole value opens on request. */
const FOLD_AT = 120;

/** A JSON value as text: escaped by the renderer, folded when long, "absent" when there is none. */
export function JsonValue(props: { value: string | null | undefined; testId: string }) {
  if (props.value === null || props.value === undefined) {
    return (
      <span class="muted" data-testid={props.testId}>
        (absent)
      </span>
    );
  }
  if (props.value.length <= FOLD_AT) {
    return (
      <code class="json" data-testid={props.testId}>
        {props.value}
      </code>
    );
  }
  return (
    <details class="json-fold" data-testid={props.testId}>
      <summary>
        <code class="json">{`${props.value.slice(0, FOLD_AT)}…`}</code> <span class="muted">({props.value.length} characters, show all)</span>
      </summary>
      <pre class="json">{props.value}</pre>
    </details>
  );
}

export interface DeploymentRow {
  id: string;
  at: string;
  approver: string;
  method: string;
  summary: string[];
  digest: string;
  rollbackOf: string | null;
  live: boolean;
}

export interface DeployTargetView {
  id: string;
  name: string;
  timing: 'automatic' | 'manual';
  requireTwoFactor: boolean;
  bundleUrl: string;
  pending: PendingChangeRow[];
  /** The pending bundle is what is live already (nothing to deploy even if changes are listed). */
  unchanged: boolean;
  current: DeploymentRow | null;
  history: DeploymentRow[];
  deployers: Array<{ email: string; enrolled: boolean }>;
  /** Why the viewer cannot deploy, or null when they can. */
  blocked: string | null;
  /** The viewer is an admin: settings and deployers are theirs to change. */
  canManage?: boolean | undefined;
}

/** Pending changes, oldest first: summary, entry key, author and time; with `values`, what each entry was and becomes. */
export function PendingChangeList(props: { changes: readonly PendingChangeRow[]; testId?: string; values?: boolean }) {
  return (
    <ul class="items changes" {...(props.testId ? { 'data-testid': props.testId } : {})}>
      {props.changes.map((c) => (
        <li key={c.id} data-change-key={c.key}>
          <div class="grow">
            <div class="name">{c.summary}</div>
            <div class="meta">
              <code>{c.key}</code> · {c.author} · {c.at}
            </div>
            {props.values ? (
              <dl class="change-values">
                <dt>Old value</dt>
                <dd>
                  <JsonValue value={c.oldValue} testId="old-value" />
                </dd>
                <dt>New value</dt>
                <dd>
                  <JsonValue value={c.newValue} testId="new-value" />
                </dd>
              </dl>
            ) : null}
          </div>
        </li>
      ))}
    </ul>
  );
}

export const METHOD_NAMES: Record<string, string> = { totp: 'authenticator app', sms: 'text message', email: 'email code', none: 'no code (automatic or unprotected)' };

export function DeployTargetPage(props: { chrome: PageChrome; view: DeployTargetView }) {
  const v = props.view;
  const base = `/deploy/targets/${encodeURIComponent(v.id)}`;
  const canDeployNow = v.blocked === null && v.pending.length > 0 && !v.unchanged;
  return (
    <Layout {...props.chrome}>
      <div class="deploy-wide">
        <p class="crumbs">
          <a href="/deploy">Deploy targets</a>
        </p>
        <section class="card" aria-labelledby="target-title">
          <h1 id="target-title">
            {v.name} <TargetBadges timing={v.timing} requireTwoFactor={v.requireTwoFactor} />
          </h1>
          <p class="lead">
            {v.requireTwoFactor
              ? 'Changes wait here until an authorised person reviews them and confirms with a current code.'
              : v.timing === 'automatic'
                ? 'Every change goes live as soon as it arrives.'
                : 'Changes wait here until someone deploys them.'}
          </p>
          <dl class="facts">
            <dt>Live now</dt>
            <dd data-testid="live-now">
              {v.current ? (
                <>
                  Since {v.current.at}, approved by {v.current.approver} · <code class="digest">{v.current.digest}</code>
                </>
              ) : (
                'Nothing deployed yet'
              )}
            </dd>
            <dt>Bundle URL</dt>
            <dd>
              <code class="digest">{v.bundleUrl}</code>
            </dd>
          </dl>
        </section>

        <section class="card" aria-labelledby="pending-title">
          <h2 id="pending-title">Pending changes</h2>
          {v.pending.length === 0 ? (
            <p class="muted">Nothing is waiting: what is live is up to date.</p>
          ) : (
            <PendingChangeList changes={v.pending} />
          )}
          {v.unchanged && v.pending.length > 0 ? <Alert kind="info">These changes add up to what is live already; there is nothing to deploy.</Alert> : null}
          {canDeployNow ? (
            <a class="button" href={`${base}/deploy`}>
              Deploy Now
            </a>
          ) : v.blocked && v.pending.length > 0 ? (
            <p class="muted" data-testid="deploy-blocked">
              {v.blocked}
            </p>
          ) : null}
        </section>

        <section class="card" aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          {v.history.length === 0 ? (
            <p class="muted">No deployments yet.</p>
          ) : (
            <div class="table-wrap">
              <table class="history">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Approver</th>
                    <th scope="col">Summary</th>
                    <th scope="col">Digest</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {v.history.map((d) => (
                    <tr key={d.id} data-deployment-id={d.id}>
                      <td>
                        {d.at}
                        {d.live ? (
                          <>
                            {' '}
                            <span class="badge ok">Live</span>
                          </>
                        ) : null}
                      </td>
                      <td>
                        {d.approver}
                        <div class="meta">{METHOD_NAMES[d.method] ?? d.method}</div>
                      </td>
                      <td>
                        {d.summary.length === 0 ? (
                          <span class="muted">No changes listed</span>
                        ) : (
                          <ul class="plain">
                            {d.summary.map((s, i) => (
                              <li key={i}>{s}</li>
                            ))}
                          </ul>
                        )}
                      </td>
                      <td>
                        <code class="digest" title={d.digest}>
                          {shortDigest(d.digest)}
                        </code>
                      </td>
                      <td>
                        {!d.live && v.blocked === null && v.current?.digest !== d.digest ? (
                          <a href={`${base}/deploy?rollback=${encodeURIComponent(d.id)}`}>Roll back to this</a>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>

        <section class="card" aria-labelledby="deployers-title">
          <h2 id="deployers-title">Who may deploy</h2>
          {v.canManage ? (
            <p>
              <a href={`${base}/settings`}>Settings and deployers</a>
            </p>
          ) : null}
          {v.deployers.length === 0 ? (
            <p class="muted">{v.requireTwoFactor ? 'Nobody yet. An administrator picks people who have two-step verification.' : 'Administrators. An administrator may also name deployers.'}</p>
          ) : (
            <ul class="items">
              {v.deployers.map((d) => (
                <li key={d.email}>
                  <span class="name">{d.email}</span>
                  {d.enrolled ? <span class="badge ok">2FA on</span> : <span class="badge warn">Must set up 2FA again</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </Layout>
  );
}
