import { Fragment } from 'preact';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { METHOD_LABELS, codeFieldLabel, resendHint } from './enrol-code.js';
import { SecurityKeyForm } from './security-key.js';
import type { PendingApproval } from '../approval-prompt.js';
import { ApprovalPrompt, ApproveOnPhoneButtons } from '../approval-prompt.js';

export interface SendTarget {
  id: string;
  destination: string;
}

export interface SecondFactorView {
  methods: string[];
  method: string;
  trustDays: number;
  /** Text or email factors the chosen method can send a code to. */
  targets: SendTarget[];
  /** The title of the channel the code comes by (e.g. "Acme alerts"), when the organisation named it. */
  channelTitle?: string | undefined;
  /** Set once a code went out (or was asked for) in this sign-in: the code form shows. */
  sent?: { factorId: string; sentTo: string; expiresAt?: string | undefined; resendInSeconds?: number | undefined } | undefined;
  /** Methods the user holds but may not use now, with the reason. */
  unavailable: Array<{ method: string; reason: string }>;
  /** Wrong codes locked the codes: seconds left (counted down in the page) and the end, in the person's time zone. */
  lock?: { seconds: number; until: string } | undefined;
  /** Method `webauthn`: the options for navigator.credentials.get() (JSON), with this step's fresh challenge. */
  securityKeyOptions?: string | undefined;
  /** Phone approvals: the paired phones, and the request just sent (its number is shown here, picked on the phone). */
  approvers?: Array<{ id: string; name: string }> | undefined;
  approval?: PendingApproval | undefined;
}

/** Seconds as m:ss (or h:mm:ss), the form the countdown keeps. */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** The lock as it stands, read from the account on every load (so a reload shows it too), counting down in the page. */
function LockNotice(props: { lock: NonNullable<SecondFactorView['lock']>; backupOffered: boolean }) {
  return (
    <div class="alert warn" role="status" data-testid="codes-locked">
      <p>
        Too many wrong codes. Codes are locked for{' '}
        <strong>
          <span data-countdown={String(props.lock.seconds)} data-countdown-done="You can try again now.">
            {clockText(props.lock.seconds)}
          </span>
        </strong>{' '}
        (until {props.lock.until}).
      </p>
      {props.backupOffered ? <p>A backup code still works meanwhile.</p> : null}
    </div>
  );
}

function leadFor(v: SecondFactorView): string {
  if (v.method === 'push') return v.approval ? `On ${v.approval.approver}, tap this number:` : 'Get a prompt on your phone, then tap the number shown here.';
  if (v.method === 'backup_code') return 'Enter one of your backup codes. Each code works once.';
  if (v.method === 'totp') return 'Enter the 6-digit code from your authenticator app.';
  if (v.method === 'webauthn') return 'Use your security key or passkey: insert or tap the key, or confirm with your fingerprint, face or PIN.';
  // The channel's title, as the organisation named it, is the sender people will look for.
  const how = v.channelTitle ? `by ${v.channelTitle}` : `in ${v.method === 'sms' ? 'a text message' : 'an email'}`;
  if (!v.sent) return `We will send a 6-digit code ${how}.`;
  const until = v.sent.expiresAt ? ` It works until ${v.sent.expiresAt}.` : '';
  return `Enter the 6-digit code we sent ${how} to ${v.sent.sentTo}.${until}`;
}

export function SecondFactorPage(props: { chrome: PageChrome; view: SecondFactorView; error?: string | undefined; notice?: string | undefined }) {
  const v = props.view;
  const isBackup = v.method === 'backup_code';
  const delivered = v.method === 'sms' || v.method === 'email';
  const securityKey = v.method === 'webauthn' && v.securityKeyOptions !== undefined;
  const push = v.method === 'push';
  const showCodeForm = v.methods.length > 0 && !securityKey && !push && (!delivered || v.sent !== undefined);
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const others = v.methods.filter((m) => m !== v.method);
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="second-factor-title">
        <h1 id="second-factor-title">Two-step verification</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.lock ? <LockNotice lock={v.lock} backupOffered={v.methods.includes('backup_code')} /> : null}
        {v.unavailable.length > 0 ? (
          <Alert kind="warn">
            {v.unavailable.map((u) => (
              <p key={u.method} data-unavailable={u.method}>
                {u.reason}
              </p>
            ))}
          </Alert>
        ) : null}
        {v.methods.length === 0 ? (
          <p class="lead">None of your two-step methods can be used right now. Ask your administrator for help.</p>
        ) : (
          <p class="lead" id="code-help">
            {leadFor(v)}
          </p>
        )}
        {delivered && !v.sent
          ? v.targets.map((t) => (
              <form key={t.id} method="post" action="/sign-in/second-factor/send" class="send">
                {csrf}
                <input type="hidden" name="method" value={v.method} />
                <input type="hidden" name="factorId" value={t.id} />
                <button type="submit">Send code to {t.destination}</button>
              </form>
            ))
          : null}
        {securityKey ? (
          <SecurityKeyForm kind="get" action="/sign-in/second-factor" csrf={props.chrome.csrf} options={v.securityKeyOptions ?? '{}'} field="code" button="Use security key">
            <input type="hidden" name="method" value="webauthn" />
            {v.trustDays > 0 ? (
              <label class="check">
                <input type="checkbox" name="trustBrowser" value="1" /> Trust this browser for {v.trustDays} days
              </label>
            ) : null}
          </SecurityKeyForm>
        ) : null}
        {push && !v.approval ? <ApproveOnPhoneButtons approvers={v.approvers ?? []} action="/sign-in/second-factor/approve" fields={csrf} /> : null}
        {push && v.approval ? (
          <form method="post" action="/sign-in/second-factor" data-approval-request={v.approval.requestId}>
            {csrf}
            <ApprovalPrompt approval={v.approval} sent="We sent a prompt to your phone." intro={false} describedBy="code-help" />
            {v.trustDays > 0 ? (
              <label class="check">
                <input type="checkbox" name="trustBrowser" value="1" /> Trust this browser for {v.trustDays} days
              </label>
            ) : null}
            <button type="submit" class="secondary">
              I approved it on my phone
            </button>
          </form>
        ) : null}
        {showCodeForm ? (
          <form method="post" action="/sign-in/second-factor">
            {csrf}
            <input type="hidden" name="method" value={v.method} />
            {v.sent ? <input type="hidden" name="factorId" value={v.sent.factorId} /> : null}
            <label for="code">{isBackup ? 'Backup code' : codeFieldLabel(v.method)}</label>
            <input
              id="code"
              class="code"
              name="code"
              type="text"
              required
              autocomplete="one-time-code"
              aria-describedby="code-help"
              {...(props.error ? { 'aria-invalid': 'true' } : {})}
              {...(isBackup ? { autocapitalize: 'off', spellcheck: false } : { inputmode: 'numeric', pattern: '[0-9 ]{6,7}', maxlength: 7 })}
            />
            {v.trustDays > 0 ? (
              <>
                <label class="check">
                  <input type="checkbox" name="trustBrowser" value="1" aria-describedby="trust-help" /> Trust this browser for {v.trustDays} days
                </label>
                <p class="hint" id="trust-help">
                  Not on a shared or public computer.
                </p>
              </>
            ) : null}
            <button type="submit">Verify</button>
          </form>
        ) : null}
        {delivered && v.sent ? (
          <form method="post" action="/sign-in/second-factor/send" class="resend">
            {csrf}
            <input type="hidden" name="resend" value="1" />
            <input type="hidden" name="method" value={v.method} />
            <input type="hidden" name="factorId" value={v.sent.factorId} />
            <p class="muted" id="resend-help">
              Nothing arrived? {resendHint(v.sent.resendInSeconds)}
            </p>
            <button type="submit" class="secondary" aria-describedby="resend-help">
              Send a new code
            </button>
          </form>
        ) : null}
        <div class="alt muted">
          {others.length > 0 ? (
            <p>
              Use instead:{' '}
              {others.map((m, i) => (
                <Fragment key={m}>
                  {i > 0 ? ', ' : null}
                  <a href={`/sign-in/second-factor?method=${m}`}>{METHOD_LABELS[m] ?? m}</a>
                </Fragment>
              ))}
            </p>
          ) : null}
          <p>
            <a href="/sign-in">Start over</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}
