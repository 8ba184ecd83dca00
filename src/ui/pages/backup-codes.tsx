import type { PageChrome } from '../layout.js';
import { Alert, Layout } from '../layout.js';

/** Whose codes these are, so a saved or printed copy still says where and for whom it works. */
export interface CodesOwner {
  /** The company name and this server's address, e.g. "Acme Widgets (id.acme.example)". */
  site: string;
  account: string;
  /** The day they were made, in the person's time zone (YYYY-MM-DD). */
  date: string;
}

export function codesOwner(input: { companyName: string; publicUrl: string; account: string; timeZone: string; nowMs: number }): CodesOwner {
  const host = new URL(input.publicUrl).host;
  const date = new Intl.DateTimeFormat('en-CA', { timeZone: input.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(input.nowMs);
  return { site: `${input.companyName} (${host})`, account: input.account, date };
}

/** What a backup code stands in for, in the words of the method the person just set up. */
function standsInFor(method: string | undefined): string {
  if (method === 'totp') return 'in place of a code from your authenticator app';
  if (method === 'sms') return 'in place of a code by text message';
  if (method === 'email') return 'in place of a code by email';
  return 'when you cannot get a code from your usual method';
}

/** What became of the emailed copy (services' BackupCodesEmail); 'off' and absent say nothing. */
export type EmailedCopy = { status: 'off' } | { status: 'sent' | 'unverified' | 'failed'; to: string };

/** One line on the emailed copy, when the organisation asks for one. */
function EmailedCopyNote(props: { email: EmailedCopy | undefined }) {
  const e = props.email;
  if (!e || e.status === 'off') return null;
  if (e.status === 'sent') return <Alert kind="info"><span data-testid="codes-emailed">A copy was emailed to {e.to}.</span></Alert>;
  if (e.status === 'unverified') {
    return (
      <Alert kind="warn">
        <span data-testid="codes-not-emailed">No copy was emailed: {e.to} is not verified yet. Add it as an email sign-in method to verify it.</span>
      </Alert>
    );
  }
  return (
    <Alert kind="warn">
      <span data-testid="codes-not-emailed">The emailed copy to {e.to} could not be sent. Your codes are below and work: save or print them now.</span>
    </Alert>
  );
}

/** `next` replaces "Done" with a primary link onward, for sign-ins that continue elsewhere (an app). */
export function BackupCodesPage(props: {
  chrome: PageChrome;
  codes: string[];
  intro: string;
  next?: { href: string; label: string } | undefined;
  owner?: CodesOwner | undefined;
  /** The method just enrolled, for the wording; absent when the codes were replaced. */
  method?: string | undefined;
  email?: EmailedCopy | undefined;
}) {
  const o = props.owner;
  return (
    <Layout {...props.chrome}>
      <section class="card" aria-labelledby="codes-title">
        <h1 id="codes-title">Your backup codes</h1>
        <Alert kind="info">{props.intro}</Alert>
        <EmailedCopyNote email={props.email} />
        <p>Each code works once, {standsInFor(props.method)}. This is the only time they are shown: save or print them now.</p>
        {o ? (
          <p class="muted" data-testid="codes-owner">
            For {o.account} at {o.site}, created {o.date}.
          </p>
        ) : null}
        <ol class="codes" id="backup-codes" {...(o ? { 'data-site': o.site, 'data-account': o.account, 'data-date': o.date } : {})}>
          {props.codes.map((c) => (
            <li key={c} data-backup-code>
              {c}
            </li>
          ))}
        </ol>
        <div class="actions no-print">
          <button type="button" data-action="download-codes">
            Download .txt
          </button>
          <button type="button" class="secondary" data-action="copy-codes" data-copied-text="Codes copied">
            Copy codes
          </button>
          <button type="button" class="secondary" data-action="print">
            Print
          </button>
          {props.next ? (
            <a class="button" href={props.next.href}>
              {props.next.label}
            </a>
          ) : (
            <a class="button secondary" href="/account/security">
              Done
            </a>
          )}
        </div>
      </section>
    </Layout>
  );
}
