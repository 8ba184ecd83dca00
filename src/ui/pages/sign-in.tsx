import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export function SignInPage(props: { chrome: PageChrome; email?: string | undefined; error?: string | undefined; notice?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <form method="post" action="/sign-in">
          <CsrfField token={props.chrome.csrf} />
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <button type="submit">Continue</button>
        </form>
        <div class="alt muted">
          <p>
            <a href="/forgot-password">Forgot your password?</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}
