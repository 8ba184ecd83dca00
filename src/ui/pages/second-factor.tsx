import { Fragment } from 'preact';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

const METHOD_LABELS: Record<string, string> = { totp: 'Authenticator app', backup_code: 'Backup code' };

export function SecondFactorPage(props: {
  chrome: PageChrome;
  methods: string[];
  method: string;
  trustDays: number;
  error?: string | undefined;
}) {
  const isBackup = props.method === 'backup_code';
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="second-factor-title">
        <h1 id="second-factor-title">Two-step verification</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="lead" id="code-help">
          {isBackup ? 'Enter one of your backup codes. Each code works once.' : 'Enter the 6-digit code from your authenticator app.'}
        </p>
        <form method="post" action="/sign-in/second-factor">
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="method" value={props.method} />
          <label for="code">{isBackup ? 'Backup code' : 'Code'}</label>
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
          {props.trustDays > 0 ? (
            <>
              <label class="check">
                <input type="checkbox" name="trustBrowser" value="1" aria-describedby="trust-help" /> Trust this browser for {props.trustDays} days
              </label>
              <p class="hint" id="trust-help">
                Not on a shared or public computer.
              </p>
            </>
          ) : null}
          <button type="submit">Verify</button>
        </form>
        <div class="alt muted">
          {props.methods.length > 1 ? (
            <p>
              Use instead:{' '}
              {props.methods
                .filter((m) => m !== props.method)
                .map((m, i) => (
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
