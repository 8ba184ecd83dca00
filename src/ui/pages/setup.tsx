import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface SetupValues {
  organisationName?: string | undefined;
  email?: string | undefined;
  displayName?: string | undefined;
}

export function SetupPage(props: { chrome: PageChrome; token: string; values: SetupValues; error?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="setup-title">
        <h1 id="setup-title">Set up {props.chrome.companyName}</h1>
        <p class="muted">Create the first administrator. This link works once.</p>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <form method="post" action="/setup">
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="token" value={props.token} />
          <label for="organisationName">Organisation name</label>
          <input id="organisationName" name="organisationName" type="text" required value={props.values.organisationName ?? ''} />
          <label for="displayName">Your name</label>
          <input id="displayName" name="displayName" type="text" autocomplete="name" value={props.values.displayName ?? ''} />
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required value={props.values.email ?? ''} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="new-password" required minLength={8} aria-describedby="password-help" />
          <p id="password-help" class="muted">At least 8 characters. Long passphrases are welcome; common passwords are refused.</p>
          <button type="submit">Create administrator</button>
        </form>
      </section>
    </Layout>
  );
}
