import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/password-rules.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

/** The invited person chooses their first password. */
export function AcceptInvitationPage(props: { chrome: PageChrome; token: string; email: string; error?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="invitation-title">
        <h1 id="invitation-title">Choose your password</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="lead">You were invited as {props.email}. Choose a password, then sign in.</p>
        <form method="post" action="/invitation">
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="token" value={props.token} />
          <label for="new-password">Password</label>
          <input id="new-password" name="password" type="password" autocomplete="new-password" required minLength={MIN_PASSWORD_LENGTH} maxLength={MAX_PASSWORD_LENGTH} aria-describedby="new-password-help" />
          <p class="hint" id="new-password-help">
            At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words work well.
          </p>
          <label for="confirm-password">Password again</label>
          <input id="confirm-password" name="confirmPassword" type="password" autocomplete="new-password" required maxLength={MAX_PASSWORD_LENGTH} />
          <button type="submit">Set password</button>
        </form>
      </section>
    </Layout>
  );
}

export function InvitationInvalidPage(props: { chrome: PageChrome; message: string }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="invalid-title">
        <h1 id="invalid-title">This invitation cannot be used</h1>
        <Alert kind="error">{props.message}</Alert>
        <p>Invitation links work once and expire after a week. Your administrator can send you a new one.</p>
        <a href="/sign-in">Go to sign in</a>
      </section>
    </Layout>
  );
}

export function InvitationAcceptedPage(props: { chrome: PageChrome; email: string }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="accepted-title">
        <h1 id="accepted-title">Your password is set</h1>
        <Alert kind="info">Your account {props.email} is ready.</Alert>
        <p>Sign in with your email and new password. If your organisation requires it, you will then set up a second sign-in method.</p>
        <a class="button" href="/sign-in">
          Sign in
        </a>
      </section>
    </Layout>
  );
}
