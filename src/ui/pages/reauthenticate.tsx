import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

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
}

export function ReauthenticatePage(props: { chrome: PageChrome; view: ReauthView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const hidden = (
    <>
      <CsrfField token={props.chrome.csrf} />
      <input type="hidden" name="next" value={v.next} />
    </>
  );
  const code = v.askCode && v.methods.length > 0;
  const what = v.askPassword && code ? 'your password and a current code' : code ? 'a current code' : 'your password';
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="reauth-title">
        <h1 id="reauth-title">Confirm it is you</h1>
        <p class="lead">This area needs a fresh confirmation: enter {what}. It stays unlocked for a few minutes.</p>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.askCode && v.methods.length === 0 ? (
          <Alert kind="warn">None of your two-step methods can be used right now. Ask another administrator for help.</Alert>
        ) : null}
        {code
          ? v.sendable.map((m) => (
              <form method="post" action="/reauthenticate/send" class="send-code" key={m.method}>
                {hidden}
                <input type="hidden" name="method" value={m.method} />
                <button type="submit" class="secondary">
                  Send me a code by {m.label}
                </button>
              </form>
            ))
          : null}
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
              <label for="reauth-method">Method</label>
              <select id="reauth-method" name="method">
                {v.methods.map((m) => (
                  <option key={m.method} value={m.method} selected={m.method === v.selected}>
                    {m.label}
                  </option>
                ))}
              </select>
              <label for="reauth-code">Code</label>
              <input id="reauth-code" class="code" name="code" type="text" required autocomplete="one-time-code" autocapitalize="off" spellcheck={false} maxLength={64} />
            </>
          ) : null}
          <button type="submit">Confirm</button>
        </form>
        <div class="alt muted">
          <p>
            <a href="/account">Cancel</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}
