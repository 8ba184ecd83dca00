import type { ManagedOrganisation } from '../admin-nav.js';
import { AdminNav, OrganisationPicker } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

export interface AdminBrandingView {
  organisations: ManagedOrganisation[];
  orgId: string;
  orgName: string;
  /** The organisation's own name, or null when it inherits. */
  companyName: string | null;
  effectiveCompanyName: string;
  /** Where the effective name comes from, as words ("the default", "Agency"). */
  source: string;
  value?: string | undefined;
  /** The organisations directly below this one. */
  children: Array<{ id: string; name: string }>;
  newName?: string | undefined;
  /** Organisation setting: new backup codes are also emailed to the person's verified address. */
  emailBackupCodes: boolean;
}

/** The company name as an organisation setting: shown on pages, in messages and as the authenticator issuer. */
export function AdminBrandingPage(props: { chrome: PageChrome; view: AdminBrandingView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  return (
    <Layout {...props.chrome}>
      <div class="admin-wide">
        <AdminNav current="branding" />
        <h1 class="page-title">Organisations</h1>
        <OrganisationPicker action="/admin/organisations" organisations={v.organisations} selected={v.orgId} />
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <section class="card" aria-labelledby="branding-title">
          <h2 id="branding-title">Company name of {v.orgName}</h2>
          <p class="lead">
            People of {v.orgName} see <strong data-testid="effective-company-name">{v.effectiveCompanyName}</strong> ({v.source}) on pages, in the messages Twofold sends and as the account name in their authenticator app. Organisations below this one show it too unless they set their own.
          </p>
          <form method="post" action="/admin/branding">
            <CsrfField token={props.chrome.csrf} />
            <input type="hidden" name="org" value={v.orgId} />
            <label for="company-name">
              Company name <span class="optional">(leave empty to use the inherited name)</span>
            </label>
            <input id="company-name" name="companyName" type="text" maxLength={80} value={v.value ?? v.companyName ?? ''} autocomplete="organization" aria-describedby="company-name-help" />
            <p id="company-name-help" class="hint">
              One line, up to 80 characters. Authenticators that were set up before a change keep the name they were given.
            </p>
            <button type="submit">Save</button>
          </form>
        </section>
        <section class="card" aria-labelledby="codes-email-title">
          <h2 id="codes-email-title">Backup codes by email</h2>
          <form method="post" action="/admin/organisations/settings">
            <CsrfField token={props.chrome.csrf} />
            <input type="hidden" name="org" value={v.orgId} />
            <label class="check">
              <input type="checkbox" name="emailBackupCodes" value="on" checked={v.emailBackupCodes} aria-describedby="codes-email-help" /> Email people of {v.orgName} their new backup codes
            </label>
            <p id="codes-email-help" class="hint">
              Off by default. When on, each new set (first sign-in method, or new codes) also goes to the person's email address, only once they have verified it by adding it as an email sign-in method. Anyone who can read that mailbox can then use the codes.
            </p>
            <button type="submit">Save</button>
          </form>
        </section>
        <section class="card" aria-labelledby="children-title">
          <h2 id="children-title">Organisations below {v.orgName}</h2>
          {v.children.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <ul class="items">
              {v.children.map((c) => (
                <li key={c.id} data-org-id={c.id}>
                  <a class="name" href={`/admin/organisations?org=${encodeURIComponent(c.id)}`}>
                    {c.name}
                  </a>
                </li>
              ))}
            </ul>
          )}
          <form method="post" action="/admin/organisations">
            <CsrfField token={props.chrome.csrf} />
            <input type="hidden" name="org" value={v.orgId} />
            <label for="new-org-name">Add an organisation below {v.orgName}</label>
            <input id="new-org-name" name="name" type="text" required maxLength={200} value={v.newName ?? ''} autocomplete="off" aria-describedby="new-org-help" />
            <p id="new-org-help" class="hint">
              For a client or sub-account: its people, apps and deploy targets stay inside it, and it uses {v.orgName}'s policy, providers and name until it sets its own.
            </p>
            <button type="submit">Add organisation</button>
          </form>
        </section>
      </div>
    </Layout>
  );
}
