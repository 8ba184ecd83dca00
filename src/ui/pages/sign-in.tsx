import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { SecurityKeyForm } from './security-key.js';

/** A passkey sign-in offered on the page: the options (JSON) and the handle its challenge is bound to. */
export interface PasskeyOffer {
  handle: string;
  options: string;
}

/** `returnTo` (a path on this site, already checked) rides in the form into the sign-in flow, which keeps it until the person is in. */
export function SignInPage(props: { chrome: PageChrome; email?: string | undefined; returnTo?: string | null | undefined; error?: string | undefined; notice?: string | undefined; passkey?: PasskeyOffer | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <form method="post" action="/sign-in">
          <CsrfField token={props.chrome.csrf} />
          {props.returnTo ? <input type="hidden" name="return_to" value={props.returnTo} /> : null}
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete={props.passkey ? 'username webauthn' : 'username'} required value={props.email ?? ''} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <button type="submit">Continue</button>
        </form>
        {props.passkey ? (
          <SecurityKeyForm kind="passkey" action="/sign-in/passkey" csrf={props.chrome.csrf} options={props.passkey.options} field="assertion" button="Sign in with a passkey" buttonClass="secondary">
            <input type="hidden" name="handle" value={props.passkey.handle} />
            {props.returnTo ? <input type="hidden" name="return_to" value={props.returnTo} /> : null}
          </SecurityKeyForm>
        ) : null}
        <div class="alt muted">
          <p>
            <a href="/forgot-password">Forgot your password?</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}
