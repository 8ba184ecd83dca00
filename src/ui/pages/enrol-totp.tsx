import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface EnrolmentView {
  id: string;
  label: string;
  secretGroups: string;
  uri: string;
  qrSvg: string;
}

export function EnrolTotpPage(props: { chrome: PageChrome; enrolment: EnrolmentView; error?: string | undefined }) {
  const e = props.enrolment;
  return (
    <Layout {...props.chrome}>
      <section class="card" aria-labelledby="enrol-title">
        <h1 id="enrol-title">Add an authenticator app</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <ol>
          <li>Open your authenticator app (Google Authenticator, Authy, 1Password, …) and scan this code.</li>
          <li>Or type the key by hand:</li>
        </ol>
        <div class="qr" role="img" aria-label="QR code for your authenticator app" dangerouslySetInnerHTML={{ __html: e.qrSvg }} />
        <p>
          Key: <span class="secret" data-testid="totp-secret">{e.secretGroups}</span>
        </p>
        <p class="muted">Time-based, 6 digits, every 30 seconds.</p>
        <form method="post" action={`/account/security/totp/${e.id}/confirm`}>
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="label" value={e.label} />
          <label for="code">Enter the code your app shows now</label>
          <input id="code" name="code" type="text" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required />
          <button type="submit">Turn on</button>
        </form>
      </section>
    </Layout>
  );
}
