import type { PageChrome } from '../layout.js';
import { CodeInput, CsrfField, Layout } from '../layout.js';

export interface EnrolmentView {
  id: string;
  label: string;
  secretGroups: string;
  uri: string;
  qrSvg: string;
}

export function EnrolTotpPage(props: {
  chrome: PageChrome;
  enrolment: EnrolmentView;
  error?: string | undefined;
  /** Where the code goes and where Cancel leads; forced enrolment at sign-in sets both. */
  confirmAction?: string | undefined;
  cancelHref?: string | undefined;
}) {
  const e = props.enrolment;
  return (
    <Layout {...props.chrome}>
      <section class="card" aria-labelledby="enrol-title">
        <h1 id="enrol-title">Add an authenticator app</h1>
        <p class="lead">Any authenticator app works: Google Authenticator, Authy, 1Password and others.</p>
        <h2 class="step">
          <span class="step-no" aria-hidden="true">1</span> Scan this QR code with the app
        </h2>
        <div class="qr" role="img" aria-label="QR code for your authenticator app" dangerouslySetInnerHTML={{ __html: e.qrSvg }} />
        <p class="muted">
          Cannot scan it? Add an account by hand with this key (time-based, 6 digits, every 30 seconds):
        </p>
        <p class="secret-row">
          <span class="secret" id="totp-secret" data-testid="totp-secret">
            {e.secretGroups}
          </span>{' '}
          <button type="button" class="secondary small" data-action="copy" data-copy-from="totp-secret" data-copied-text="Key copied">
            Copy key
          </button>
        </p>
        <p class="phone-only">
          {/* On a phone the QR code cannot be scanned by the phone itself: the link opens the app instead. */}
          <a class="button secondary" href={e.uri}>
            Open in your authenticator app
          </a>
        </p>
        <h2 class="step">
          <span class="step-no" aria-hidden="true">2</span> Confirm with a code
        </h2>
        <form method="post" action={props.confirmAction ?? `/account/security/totp/${e.id}/confirm`}>
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="label" value={e.label} />
          <label for="code">Enter the code your app shows now</label>
          {/* The error sits next to the field, and the key and QR code above stay as they were: no rescanning. */}
          {props.error ? (
            <p class="field-error" id="code-error" role="alert">
              {props.error}
            </p>
          ) : null}
          <CodeInput invalid={Boolean(props.error)} {...(props.error ? { describedBy: 'code-error' } : {})} />
          <div class="actions">
            <button type="submit">Turn on</button>
            <a class="button secondary" href={props.cancelHref ?? '/account/security'}>
              Cancel
            </a>
          </div>
        </form>
      </section>
    </Layout>
  );
}
