import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import type { PendingChangeRow } from './deploy-target.js';
import { PendingChangeList } from './deploy-target.js';
import { TargetBadges } from './deploys.js';
import { MethodSelect, SendCodeForms } from '../code-form.js';
import { SecurityKeyForm } from './security-key.js';
import type { PendingApproval } from '../approval-prompt.js';
import { ApprovalPrompt, ApproveOnPhoneButtons } from '../approval-prompt.js';

export interface DeployNowView {
  targetId: string;
  targetName: string;
  timing: 'automatic' | 'manual';
  requireTwoFactor: boolean;
  /** Exactly what goes out: the pending changes since the current deployment. */
  changes: PendingChangeRow[];
  /** The digest of the bundle that goes out; posted back so a bundle that changed meanwhile is refused. */
  digest: string;
  /** Rolling back: the earlier deployment whose bundle goes out instead of the pending one. */
  rollback: { id: string; at: string; summary: string[] } | null;
  /** What is live now, to compare against. */
  live: { at: string; digest: string } | null;
  nothingToDeploy: boolean;
  /** Why the viewer cannot deploy, or null when they can. */
  blocked: string | null;
  /** Code methods the viewer holds; empty for targets that need no code. */
  methods: Array<{ method: string; label: string }>;
  /** Methods whose code is sent on request. */
  sendable: Array<{ method: string; label: string }>;
  selected?: string | undefined;
  /** The viewer's security key: options whose challenge is derived from this digest and target, and the nonce it came from. */
  securityKey?: { options: string; nonce: string } | undefined;
  /** The viewer's paired phones, and the request just sent to one (its number is shown here, picked on the phone). */
  approvers?: Array<{ id: string; name: string }> | undefined;
  approval?: PendingApproval | undefined;
}

export function DeployNowPage(props: { chrome: PageChrome; view: DeployNowView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const base = `/deploy/targets/${encodeURIComponent(v.targetId)}`;
  const needsCode = v.requireTwoFactor;
  const showForm = v.blocked === null && !v.nothingToDeploy;
  const hidden = (
    <>
      <CsrfField token={props.chrome.csrf} />
      <input type="hidden" name="digest" value={v.digest} />
      {v.rollback ? <input type="hidden" name="rollbackTo" value={v.rollback.id} /> : null}
    </>
  );
  return (
    <Layout {...props.chrome}>
      <div class="deploy-wide">
        <p class="crumbs">
          <a href="/deploy">Deploy targets</a> / <a href={base}>{v.targetName}</a>
        </p>
        <section class="card" aria-labelledby="deploy-now-title">
          <h1 id="deploy-now-title">
            {v.rollback ? `Roll back ${v.targetName}` : `Deploy ${v.targetName}`} <TargetBadges timing={v.timing} requireTwoFactor={v.requireTwoFactor} />
          </h1>
          {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
          {props.error ? <Alert kind="error">{props.error}</Alert> : null}

          {v.rollback ? (
            <>
              <p class="lead">
                This puts the bundle deployed {v.rollback.at} live again. Changes still pending stay pending.
              </p>
              <h2>That deployment contained</h2>
              <ul class="items changes" data-testid="deploy-changes">
                {v.rollback.summary.map((s, i) => (
                  <li key={i}>
                    <span class="name">{s}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : v.changes.length === 0 ? (
            <p class="lead">Nothing is pending: what is live is up to date.</p>
          ) : (
            <>
              <p class="lead">{v.changes.length === 1 ? 'This change goes live:' : `These ${v.changes.length} changes go live:`}</p>
              <PendingChangeList changes={v.changes} testId="deploy-changes" values />
            </>
          )}

          <dl class="facts">
            <dt>Bundle digest</dt>
            <dd>
              <code class="digest" data-testid="deploy-digest">
                {v.digest}
              </code>
            </dd>
            <dt>Live now</dt>
            <dd>
              {v.live ? (
                <>
                  Since {v.live.at} · <code class="digest">{v.live.digest}</code>
                </>
              ) : (
                'Nothing deployed yet'
              )}
            </dd>
          </dl>

          {v.nothingToDeploy ? <Alert kind="info">What would go out is exactly what is live already. There is nothing to deploy.</Alert> : null}
          {v.blocked ? <Alert kind="warn">{v.blocked}</Alert> : null}

          {showForm && needsCode && v.securityKey ? (
            <SecurityKeyForm kind="get" action={`${base}/deploy`} csrf={props.chrome.csrf} options={v.securityKey.options} field="code" button={v.rollback ? 'Roll back with security key' : 'Deploy with security key'}>
              <input type="hidden" name="digest" value={v.digest} />
              {v.rollback ? <input type="hidden" name="rollbackTo" value={v.rollback.id} /> : null}
              <input type="hidden" name="method" value="webauthn" />
              <input type="hidden" name="nonce" value={v.securityKey.nonce} />
              <p class="hint">Your key signs this exact bundle (its digest) for this target.</p>
            </SecurityKeyForm>
          ) : null}
          {showForm && needsCode && !v.approval ? <ApproveOnPhoneButtons approvers={v.approvers ?? []} action={`${base}/deploy/approve`} fields={hidden} secondary /> : null}
          {showForm && needsCode && v.approval ? (
            <form method="post" action={`${base}/deploy`} data-approval-request={v.approval.requestId} data-approval-status={`${base}/deploy/approval?digest=${encodeURIComponent(v.digest)}${v.rollback ? `&rollback=${encodeURIComponent(v.rollback.id)}` : ''}`}>
              {hidden}
              <ApprovalPrompt approval={v.approval} sent="We sent the deploy to your phone." />
              <button type="submit" class="secondary">
                I approved it on my phone
              </button>
            </form>
          ) : null}
          {showForm && (!needsCode || v.methods.length > 0) ? (
            <form method="post" action={`${base}/deploy`} class="deploy-confirm">
              {hidden}
              {needsCode ? (
                <>
                  <MethodSelect id="deploy-method" methods={v.methods} selected={v.selected} />
                  <label for="deploy-code">Current code from your device</label>
                  <input
                    id="deploy-code"
                    class="code"
                    name="code"
                    type="text"
                    inputmode="numeric"
                    required
                    autocomplete="one-time-code"
                    autocapitalize="off"
                    spellcheck={false}
                    maxLength={64}
                    aria-describedby="deploy-code-help"
                  />
                  <p id="deploy-code-help" class="hint">
                    A code is needed every time, even if you signed in a moment ago. Backup codes do not work here.
                  </p>
                </>
              ) : (
                <p class="muted">This target does not ask for a code.</p>
              )}
              <div class="actions">
                <button type="submit">{v.rollback ? 'Confirm roll back' : 'Confirm and deploy'}</button>
                <a class="button secondary" href={base}>
                  Cancel
                </a>
              </div>
            </form>
          ) : null}
          {showForm && needsCode ? <SendCodeForms action={`${base}/deploy/send-code`} methods={v.sendable} fields={hidden} /> : null}
        </section>
      </div>
    </Layout>
  );
}

export interface DeployedView {
  targetId: string;
  targetName: string;
  deploymentId: string;
  at: string;
  digest: string;
  summary: string[];
  bundleUrl: string;
  rollback: boolean;
}

export function DeployedPage(props: { chrome: PageChrome; view: DeployedView }) {
  const v = props.view;
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="deployed-title">
        <h1 id="deployed-title">{v.rollback ? 'Rolled back' : 'Deployed'}</h1>
        <Alert kind="info">
          <span data-testid="deployed-at">
            {v.targetName} went live {v.at}.
          </span>
        </Alert>
        <dl class="facts">
          <dt>Deployment</dt>
          <dd>
            <code class="digest">{v.deploymentId}</code>
          </dd>
          <dt>Digest</dt>
          <dd>
            <code class="digest">{v.digest}</code>
          </dd>
          <dt>Bundle URL</dt>
          <dd>
            <code class="digest">{v.bundleUrl}</code>
          </dd>
        </dl>
        {v.summary.length > 0 ? (
          <ul class="items changes">
            {v.summary.map((s, i) => (
              <li key={i}>
                <span class="name">{s}</span>
              </li>
            ))}
          </ul>
        ) : null}
        <a class="button" href={`/deploy/targets/${encodeURIComponent(v.targetId)}`}>
          Back to {v.targetName}
        </a>
      </section>
    </Layout>
  );
}
