import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface ConfirmActionView {
  heading: string;
  /** What will happen, one sentence a line. */
  lines: string[];
  /** Where the form posts: the very action the person asked for. */
  action: string;
  submitLabel: string;
  /** Destructive actions (removing a method, cancelling backup codes, blocking a place) get the danger button. */
  destructive: boolean;
  cancelHref: string;
}

/**
 * The last step before an action that cannot be undone from the same page. A person who had to
 * confirm it was them lands here afterwards (the re-authentication's return address), so they
 * finish the action they asked for instead of starting it again.
 */
export function ConfirmActionPage(props: { chrome: PageChrome; view: ConfirmActionView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="confirm-title">
        <h1 id="confirm-title">{v.heading}</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.lines.map((line) => (
          <p key={line}>{line}</p>
        ))}
        <form method="post" action={v.action}>
          <CsrfField token={props.chrome.csrf} />
          <div class="actions">
            <button type="submit" class={v.destructive ? 'danger' : undefined}>
              {v.submitLabel}
            </button>
            <a class="button secondary" href={v.cancelHref}>
              Cancel
            </a>
          </div>
        </form>
      </section>
    </Layout>
  );
}
