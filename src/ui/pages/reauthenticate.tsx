import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { MethodSelect, SendCodeForms } from '../code-form.js';
import { SecurityKeyForm } from './security-key.js';
import type { PendingApproval } from '../approval-prompt.js';
import { ApprovalPrompt, ApproveOnPhoneButtons } from '../approval-prompt.js';

export interface ReauthView {
  /** Where to go once confirmed; already checked to be a path on this site. */
  next: string;
  /** Whether the password is asked for (it is unless only a code is missing). */
  askPassword: boolean;
  /** Whether a code is asked for: the user holds a second factor and has not proven one lately. */
  askCode: boolean;
  /** The code methods the user can use now. */
  methods: Array<{ method: string; label: string }>;
  /** Methods whose code is sent on request (text message, email). */
  sendable: Array<{ method: string; label: string }>;
  selected?: string | undefined;
  /** The person's security key: options for navigator.credentials.get() (JSON), one fresh challenge for this session's step-up. */
  securityKeyOptions?: string | undefined;
  /** The paired phones a step-up can go to, and the request just sent (its number is shown here, picked on the phone). */
  approvers?: Array<{ id: string; name: string }> | undefined;
  approval?: PendingApproval | undefined;
}

export function ReauthenticatePage(props: { chrome: PageChrome; view: ReauthView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const hidden = (
    <>
      <CsrfField token={props.chrome.csrf} />
      <input type="hidden" name="next" value={v.next} />
    </>
  );
  const key = v.askCode && v.securityKeyOptions !== undefined;
  const phones = v.askCode ? (v.approvers ?? []) : [];
  const code = v.askCode && v.methods.length > 0;
  const usable = code || key || phones.length > 0;
  const what = v.askPassword && usable ? 'your password and a current code, your security key or your phone' : usable ? 'a current code, your security key or your phone' : 'your password';
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="reauth-title">
        <h1 id="reauth-title">Confirm it is you</h1>
        <p class="lead">This area needs a fresh confirmation: enter {what}. It stays unlocked for a few minutes.</p>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.askCode && !usable ? (
          <Alert kind="warn">None of your two-step methods can be used right now. Ask another administrator for help.</Alert>
        ) : null}
        {key ? (
          <SecurityKeyForm kind="get" action="/reauthenticate" csrf={props.chrome.csrf} options={v.securityKeyOptions ?? '{}'} field="code" button="Use security key">
            <input type="hidden" name="next" value={v.next} />
            <input type="hidden" name="method" value="webauthn" />
            {v.askPassword ? <PasswordField id="reauth-key-password" /> : null}
          </SecurityKeyForm>
        ) : null}
        {!v.approval ? <ApproveOnPhoneButtons approvers={phones} action="/reauthenticate/approve" fields={hidden} secondary /> : null}
        {v.approval ? (
          <form method="post" action="/reauthenticate" data-approval-request={v.approval.requestId} data-approval-status="/reauthenticate/approval">
            {hidden}
            <ApprovalPrompt approval={v.approval} sent="We sent a prompt to your phone." />
            {v.askPassword ? <PasswordField id="reauth-push-password" /> : null}
            <button type="submit" class="secondary">
              I approved it on my phone
            </button>
          </form>
        ) : null}
        {code ? <SendCodeForms action="/reauthenticate/send" methods={v.sendable} fields={hidden} /> : null}
        {/* Only a key or a phone to prove with: their own forms carry the password too. */}
        {v.askCode && !code && usable ? null : (
        <form method="post" action="/reauthenticate" class={code && v.sendable.length > 0 ? 'alt-form' : undefined}>
          {hidden}
          {v.askPassword ? (
            <>
              <label for="reauth-password">Password</label>
              <input id="reauth-password" name="password" type="password" autocomplete="current-password" required />
            </>
          ) : null}
          {code ? (
            <>
              <MethodSelect id="reauth-method" methods={v.methods} selected={v.selected} always />
              <label for="reauth-code">Code</label>
              <input id="reauth-code" class="code" name="code" type="text" required autocomplete="one-time-code" autocapitalize="off" spellcheck={false} maxLength={64} />
            </>
          ) : null}
          <button type="submit">Confirm</button>
        </form>
        )}
        <div class="alt muted">
          <p>
            <a href="/account">Cancel</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}

function PasswordField(props: { id: string }) {
  return (
    <>
      <label for={props.id}>Password</label>
      <input id={props.id} name="password" type="password" autocomplete="current-password" required />
    </>
  );
}
