import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export function ForgotPasswordPage(props: { chrome: PageChrome; email?: string | undefined; error?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="forgot-title">
        <h1 id="forgot-title">Forgot your password?</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="lead" id="forgot-help">
          Enter the email address you sign in with. We will send a link to choose a new password.
        </p>
        <form method="post" action="/forgot-password">
          <CsrfField token={props.chrome.csrf} />
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" maxLength={254} required value={props.email ?? ''} aria-describedby="forgot-help" />
          <button type="submit">Send reset link</button>
        </form>
        <div class="alt muted">
          <p>
            <a href="/sign-in">Back to sign in</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}

/** The one answer to every request, whether or not the address has an account. */
export function ResetLinkSentPage(props: { chrome: PageChrome; minutesValid: number }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="sent-title">
        <h1 id="sent-title">Check your email</h1>
        <p>If an account uses that address, a link is on its way. It works for {props.minutesValid} minutes, once.</p>
        <p class="muted">Nothing arrived after a few minutes? Check your spam folder, or ask again.</p>
        <a href="/sign-in">Back to sign in</a>
      </section>
    </Layout>
  );
}
