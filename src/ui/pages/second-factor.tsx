import { Fragment } from 'preact';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { METHOD_LABELS, codeFieldLabel, resendHint } from './enrol-code.js';

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
  /** Set once a code went out (or was asked for) in this sign-in: the code form shows. */
  sent?: { factorId: string; sentTo: string; expiresAt?: string | undefined; resendInSeconds?: number | undefined } | undefined;
  /** Methods the user holds but may not use now, with the reason. */
  unavailable: Array<{ method: string; reason: string }>;
}

function leadFor(v: SecondFactorView): string {
  if (v.method === 'backup_code') return 'Enter one of your backup codes. Each code works once.';
  if (v.method === 'totp') return 'Enter the 6-digit code from your authenticator app.';
  const how = v.method === 'sms' ? 'a text message' : 'an email';
  if (!v.sent) return `We will send ${how} with a 6-digit code.`;
  const until = v.sent.expiresAt ? ` It works until ${v.sent.expiresAt}.` : '';
  return `Enter the 6-digit code we sent in ${how} to ${v.sent.sentTo}.${until}`;
}

export function SecondFactorPage(props: { chrome: PageChrome; view: SecondFactorView; error?: string | undefined; notice?: string | undefined }) {
  const v = props.view;
  const isBackup = v.method === 'backup_code';
  const delivered = v.method === 'sms' || v.method === 'email';
  const showCodeForm = v.methods.length > 0 && (!delivered || v.sent !== undefined);
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const others = v.methods.filter((m) => m !== v.method);
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="second-factor-title">
        <h1 id="second-factor-title">Two-step verification</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
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
