import type { ProviderKind } from '../../delivery/index.js';

/**
 * Short setup instructions for each provider kind, shown beside its form: where the values come
 * from, and for the webhook what the receiver gets and how it checks the signature (the scheme
 * of src/delivery/webhook.ts; keep the two in step).
 */
export function ProviderInstructions(props: { kind: ProviderKind }) {
  const body = INSTRUCTIONS[props.kind];
  if (!body) return null;
  return (
    <details class="setup" open data-testid="provider-instructions">
      <summary>How to set it up</summary>
      {body}
    </details>
  );
}

const WEBHOOK_EXAMPLE = [
  'POST <your URL>',
  'Content-Type: application/json',
  'X-Twofold-Delivery-Id: 5f0c…-…',
  'X-Twofold-Signature: t=1767225600,v1=3b1f…(64 hex)',
  '',
  '{"id":"5f0c…","channel":"sms","to":"+14155552671","subject":null,',
  ' "text":"Acme: 123456 is your code…","sentAt":"2026-01-01T00:00:00.000Z"}',
].join('\n');

const INSTRUCTIONS: Partial<Record<ProviderKind, preact.JSX.Element>> = {
  smtp: (
    <>
      <p>Use the sending (SMTP) settings of your mail server or relay: its host and port, the account's user name and password (many providers want an app password or an API key here), and a From address the server is allowed to send as.</p>
      <p>Publish SPF and DKIM for the From domain, or codes may land in spam. After saving, use "Send test message" on the Services page.</p>
    </>
  ),
  twilio: (
    <>
      <p>
        Sign in to the Twilio Console. The <strong>Account SID</strong> (starts with <code>AC</code>) and the <strong>Auth token</strong> (press "Show") are in the Account Info panel of the console's home page.
      </p>
      <p>
        Instead of the auth token you may create an API key (Account, then API keys &amp; tokens): give its SID (starts with <code>SK</code>) and secret, and the Account SID as well.
      </p>
      <p>
        Send from a Twilio number that can send SMS (Phone Numbers, then Active numbers), in international format, or give a Messaging Service SID (starts with <code>MG</code>) instead.
      </p>
    </>
  ),
  cdyne: (
    <>
      <p>
        The <strong>license key</strong> is the GUID that identifies your Cdyne account to its SMS Notify! service; you find it in your Cdyne account, with your SMS Notify! subscription. It is sent with every message, so treat it like a password: Twofold keeps it encrypted.
      </p>
      <p>A wrong key shows as a failed delivery on "Send test message" (Cdyne answers InvalidLicenseKey). Leave the From number blank to let Cdyne pick one of your numbers.</p>
    </>
  ),
  webhook: (
    <>
      <p>Twofold POSTs each message as JSON to your URL and signs it with the signing secret you set here (share it with your receiver):</p>
      <pre class="json">{WEBHOOK_EXAMPLE}</pre>
      <p>To check a request, your receiver:</p>
      <ol>
        <li>reads the raw body bytes, before parsing any JSON;</li>
        <li>
          takes <code>t</code> and every <code>v1</code> from <code>X-Twofold-Signature</code>;
        </li>
        <li>
          computes HMAC-SHA256 with the signing secret over <code>&lt;t&gt;.&lt;raw body&gt;</code> (the timestamp, a dot, the body), as hex, and compares it with a <code>v1</code> in constant time;
        </li>
        <li>
          refuses a <code>t</code> more than 5 minutes from its own clock, and drops a repeated <code>X-Twofold-Delivery-Id</code>.
        </li>
      </ol>
      <p>Answer with any 2xx once the message is accepted. 408, 429 and 5xx answers are retried; anything else, redirects included, is a failure.</p>
    </>
  ),
};
