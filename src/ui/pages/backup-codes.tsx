import type { PageChrome } from '../layout.js';
import { Alert, Layout } from '../layout.js';

/** `next` replaces "Done" with a primary link onward, for sign-ins that continue elsewhere (an app). */
export function BackupCodesPage(props: { chrome: PageChrome; codes: string[]; intro: string; next?: { href: string; label: string } | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card" aria-labelledby="codes-title">
        <h1 id="codes-title">Your backup codes</h1>
        <Alert kind="info">{props.intro}</Alert>
        <p>Each code works once, in place of a code from your app. This is the only time they are shown: save or print them now.</p>
        <ol class="codes">
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
