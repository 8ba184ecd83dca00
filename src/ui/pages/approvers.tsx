import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { SecurityNav } from '../security-nav.js';

export interface ApproversView {
  approvers: Array<{ id: string; name: string; added: string; lastUsed: string | null; push: boolean }>;
  /** Just made: the single-use pairing link and its QR code. */
  pairing?: { url: string; qrSvg: string; until: string } | undefined;
}

/** The Security page's phones for approvals: the list, and "Add a phone for approvals" with its QR code. */
export function ApproversPage(props: { chrome: PageChrome; view: ApproversView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  return (
    <Layout {...props.chrome}>
      <SecurityNav current="factors" />
      <section class="card" aria-labelledby="approvers-title">
        <h1 id="approvers-title">Phones for approvals</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.approvers.length === 0 ? (
          <p>No phone is paired yet.</p>
        ) : (
          <ul class="list" data-testid="approvers">
            {v.approvers.map((a) => (
              <li key={a.id}>
                <strong>{a.name}</strong>
                <span class="muted">
                  {' '}
                  Added {a.added}
                  {a.lastUsed ? `, last used ${a.lastUsed}` : ''}. {a.push ? 'Gets notifications.' : 'No notifications: open the app to see requests.'}
                </span>
                <form method="post" action={`/account/security/approvers/${a.id}/rename`} class="inline">
                  <CsrfField token={props.chrome.csrf} />
                  <label for={`rename-${a.id}`} class="visually-hidden">
                    New name for {a.name}
                  </label>
                  <input id={`rename-${a.id}`} name="name" type="text" required maxLength={64} value={a.name} />
                  <button type="submit" class="secondary" aria-label={`Rename ${a.name}`}>
                    Rename
                  </button>
                </form>
                <form method="post" action={`/account/security/approvers/${a.id}/remove`} class="inline">
                  <CsrfField token={props.chrome.csrf} />
                  <button type="submit" class="danger" aria-label={`Remove ${a.name}`}>
                    Remove
                  </button>
                </form>
              </li>
            ))}
          </ul>
        )}
        {v.pairing ? (
          <div data-testid="pairing">
            <h2>Scan with your phone</h2>
            <p>Open this QR code's link on your phone before {v.pairing.until}. It works once.</p>
            <div class="qr" role="img" aria-label="QR code of the pairing link" dangerouslySetInnerHTML={{ __html: v.pairing.qrSvg }} />
            <p class="muted">
              Or open this link on the phone: <a href={v.pairing.url} data-testid="pairing-link">{v.pairing.url}</a>
            </p>
          </div>
        ) : (
          <form method="post" action="/account/security/approvers/pair">
            <CsrfField token={props.chrome.csrf} />
            <button type="submit">Add a phone for approvals</button>
          </form>
        )}
      </section>
    </Layout>
  );
}

/** The approver web app's one page: its script does the rest (pairing, the request list, the decisions). */
export function ApproverAppPage(props: { chrome: PageChrome }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" id="approver" aria-labelledby="approver-title">
        <h1 id="approver-title">Approvals</h1>
        <p id="approver-status" role="status" aria-live="polite"></p>
        <form id="pair-form" hidden>
          <label for="phone-name">Name this phone</label>
          <input id="phone-name" name="name" type="text" required maxlength={64} value="My phone" />
          <button type="submit">Pair this phone</button>
        </form>
        <p id="no-requests" class="muted">
          No requests waiting. Keep this page open, or add it to your home screen.
        </p>
        <ul id="requests" class="approvals" aria-label="Requests waiting for you"></ul>
        <noscript>This page needs JavaScript to hold the phone's key.</noscript>
      </section>
    </Layout>
  );
}
