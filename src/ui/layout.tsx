import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** The parts of the site the header links to; the current one is marked. */
export type PageSection = 'account' | 'security' | 'deploys' | 'admin';

const SECTIONS: ReadonlyArray<{ section: PageSection; href: string; label: string; adminOnly?: boolean }> = [
  { section: 'account', href: '/account', label: 'Account' },
  { section: 'security', href: '/account/security', label: 'Security' },
  { section: 'deploys', href: '/deploy', label: 'Deploys' },
  { section: 'admin', href: '/admin/users', label: 'Admin', adminOnly: true },
];

export interface PageChrome {
  companyName: string;
  title: string;
  /** Signed-in user's name for the header; absent on public pages. */
  userName?: string | undefined;
  /** Shows the admin areas in the header; set by pages that know the viewer is an admin. */
  admin?: boolean | undefined;
  /** The header section this page belongs to (marked as current), and the page's path. */
  section?: PageSection | undefined;
  path?: string | undefined;
  csrf: string;
  assets: { css: string; js: string };
  /** A page that is its own installable web app (the phone approver): its manifest and its own script. */
  app?: { manifest: string; script: string } | undefined;
}

export function Layout(props: PageChrome & { children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${props.companyName}`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={props.assets.css} />
        <script src={props.assets.js} defer />
        {props.app ? <link rel="manifest" href={props.app.manifest} /> : null}
        {props.app ? <script src={props.app.script} defer /> : null}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">{props.companyName}</a>
          {props.userName ? (
            <nav aria-label="Account">
              {SECTIONS.filter((s) => !s.adminOnly || props.admin).map((s) => (
                <a key={s.section} href={s.href} {...(s.section === props.section ? { 'aria-current': props.path === s.href ? 'page' : 'true' } : {})}>
                  {s.label}
                </a>
              ))}
              <form method="post" action="/sign-out" class="inline">
                <input type="hidden" name="_csrf" value={props.csrf} />
                <button type="submit" class="link">Sign out</button>
              </form>
            </nav>
          ) : null}
        </header>
        {/* Every admin page has the same width, whatever its content. */}
        <main id="main" {...(props.section === 'admin' ? { class: 'wide' } : {})}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function Alert(props: { kind: 'error' | 'info' | 'warn'; children: ComponentChildren }) {
  return (
    <div class={`alert ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** The field for a 6-digit code: numeric keyboard on phones, and browsers may fill in a texted code. */
export function CodeInput(props: { id?: string; invalid?: boolean | undefined; describedBy?: string }) {
  return (
    <input
      id={props.id ?? 'code'}
      class="code"
      name="code"
      type="text"
      inputMode="numeric"
      autocomplete="one-time-code"
      pattern="[0-9 ]{6,7}"
      maxLength={7}
      required
      {...(props.describedBy ? { 'aria-describedby': props.describedBy } : {})}
      {...(props.invalid ? { 'aria-invalid': 'true' } : {})}
    />
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

/** Renders a page; preact escapes every interpolated value, so user data cannot become markup. */
export function renderDocument(node: preact.VNode): string {
  return `<!doctype html>${renderToString(node)}`;
}
