import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/password-rules.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export function ResetPasswordPage(props: { chrome: PageChrome; token: string; email: string; error?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">Choose a new password</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="lead">For {props.email}. Every place you are signed in will be signed out.</p>
        <form method="post" action="/reset-password">
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="token" value={props.token} />
          <label for="new-password">New password</label>
          <input id="new-password" name="password" type="password" autocomplete="new-password" required minLength={MIN_PASSWORD_LENGTH} maxLength={MAX_PASSWORD_LENGTH} aria-describedby="new-password-help" />
          <p class="hint" id="new-password-help">
            At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words work well.
          </p>
          <label for="confirm-password">New password again</label>
          <input id="confirm-password" name="confirmPassword" type="password" autocomplete="new-password" required maxLength={MAX_PASSWORD_LENGTH} />
          <button type="submit">Change password</button>
        </form>
      </section>
    </Layout>
  );
}

export function ResetLinkInvalidPage(props: { chrome: PageChrome; message: string }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="invalid-title">
        <h1 id="invalid-title">This link cannot be used</h1>
        <Alert kind="error">{props.message}</Alert>
        <p>This link has expired or was used. Reset links work once, for a short time.</p>
        <a href="/forgot-password">Ask for a new link</a>
      </section>
    </Layout>
  );
}

export function PasswordChangedPage(props: { chrome: PageChrome; secondFactor: boolean }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="changed-title">
        <h1 id="changed-title">Password changed</h1>
        <Alert kind="info">You were signed out everywhere.</Alert>
        <p>
          Sign in with your new password{props.secondFactor ? ' — you will still be asked for your second factor.' : '.'}
        </p>
        <a class="button" href="/sign-in">
          Sign in
        </a>
      </section>
    </Layout>
  );
}
