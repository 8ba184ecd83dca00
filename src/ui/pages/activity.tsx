import type { PageChrome } from '../layout.js';
import { Alert, Layout } from '../layout.js';
import type { Stamp } from '../security-nav.js';
import { SecurityNav, When } from '../security-nav.js';

export interface ActivityRow {
  id: number;
  type: string;
  summary: string;
  at: Stamp;
  device: string | null;
  userAgent: string | null;
  ip: string | null;
}

export interface ActivityView {
  rows: ActivityRow[];
  categories: Array<{ key: string; label: string }>;
  /** The category shown, or '' for everything. */
  selected: string;
  timeZone: string;
  /** Links to the newest page and the next older one, when they apply. */
  newestHref: string | null;
  olderHref: string | null;
  exportHref: string;
}

export function ActivityPage(props: { chrome: PageChrome; view: ActivityView; error?: string | undefined }) {
  const v = props.view;
  return (
    <Layout {...props.chrome}>
      <div class="activity-wide">
        <SecurityNav current="activity" />
        <h1 class="page-title">Security activity</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <form method="get" action="/account/activity" class="card activity-filters" role="search">
          <div class="field">
            <label for="activity-type">Show</label>
            <select id="activity-type" name="type">
              <option value="" selected={v.selected === ''}>
                All activity
              </option>
              {v.categories.map((c) => (
                <option key={c.key} value={c.key} selected={v.selected === c.key}>
                  {c.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Show</button>
          <a class="button secondary" href={v.exportHref} download>
            Download CSV
          </a>
        </form>

        <section class="card" aria-labelledby="activity-title">
          <h2 id="activity-title">Newest first</h2>
          <p class="muted">
            Times are in {v.timeZone} (<a href="/account">change</a>); hover over one for the exact UTC time.
          </p>
          {v.rows.length === 0 ? (
            <p class="muted">Nothing to show.</p>
          ) : (
            // Focusable, so keyboard users can scroll the table sideways on a narrow screen.
            <div class="table-wrap" tabindex={0} role="region" aria-label="Activity table">
              <table class="activity">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">What</th>
                    <th scope="col">From</th>
                  </tr>
                </thead>
                <tbody>
                  {v.rows.map((r) => (
                    <tr key={r.id} data-type={r.type}>
                      <td class="when">
                        <When at={r.at} />
                      </td>
                      <td>{r.summary}</td>
                      <td>
                        {r.device ? <div title={r.userAgent ?? undefined}>{r.device}</div> : null}
                        {r.ip ? <div class="meta">{r.ip}</div> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {v.newestHref || v.olderHref ? (
            <nav class="pager" aria-label="Pages">
              {v.newestHref ? <a href={v.newestHref}>Newest</a> : null}
              {v.olderHref ? (
                <a href={v.olderHref} rel="next">
                  Older
                </a>
              ) : null}
            </nav>
          ) : null}
        </section>
      </div>
    </Layout>
  );
}
