/** The whole stylesheet: served at /static/app.css with a content hash, no build step. */
export const STYLES = `
:root { --ink:#1b1f24; --muted:#576170; --line:#dde2e8; --field:#8a94a3; --bg:#f4f6f8; --card:#fff; --accent:#2557d6; --accent-hover:#1c45ad; --accent-ink:#fff; --danger:#b42318; --ok:#067647; --warn:#93370d; --radius:12px; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.5; }
button, input, select, textarea { font: inherit; color: inherit; }
a { color: var(--accent); text-underline-offset: .15em; }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
p { margin: 0 0 1rem; }
.skip, .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip:focus { width: auto; height: auto; clip: auto; left: 1rem; top: .5rem; z-index: 10; background: var(--card); padding: .5rem .75rem; border-radius: 8px; }

header.top { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .5rem 1.5rem; padding: .875rem 1.25rem; background: var(--card); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; font-size: 1.0625rem; text-decoration: none; color: var(--ink); }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; align-items: center; }
header.top nav a, header.top nav button.link { color: var(--ink); text-decoration: none; font-weight: 500; }
header.top nav a:hover, header.top nav button.link:hover { color: var(--accent); text-decoration: underline; }
header.top nav a[aria-current] { color: var(--accent); font-weight: 700; text-decoration: underline; text-decoration-thickness: 2px; text-underline-offset: .35em; }

main { max-width: 42rem; margin: 2.5rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1.75rem; margin-bottom: 1.25rem; box-shadow: 0 1px 2px rgba(16, 24, 40, .05); }
.card > :last-child, .card form > :last-child { margin-bottom: 0; }
.narrow { max-width: 25rem; margin-left: auto; margin-right: auto; }
h1 { font-size: 1.625rem; line-height: 1.25; letter-spacing: -.01em; margin: 0 0 1rem; }
h2 { font-size: 1.1875rem; line-height: 1.3; margin: 0 0 .75rem; }
.page-title { margin-bottom: 1.25rem; }
.muted { color: var(--muted); font-size: .9375rem; }
.lead { color: var(--muted); margin-bottom: 1.25rem; }

label { display: block; font-weight: 600; margin: 1rem 0 .375rem; }
label .optional { font-weight: 400; color: var(--muted); }
input[type=text], input[type=email], input[type=password], input[type=number], input[type=tel], select { display: block; width: 100%; min-height: 2.75rem; padding: .625rem .75rem; border: 1px solid var(--field); border-radius: 8px; background: #fff; font-size: 1rem; }
input:focus-visible, select:focus-visible { outline-offset: 0; border-color: var(--accent); }
input.code { font-family: var(--mono); font-size: 1.25rem; letter-spacing: .12em; }
.card:not(.narrow) input.code { max-width: 16rem; }
.hint { color: var(--muted); font-size: .875rem; margin: .375rem 0 0; }
.check { display: flex; gap: .625rem; align-items: center; font-weight: 400; margin-top: 1.125rem; cursor: pointer; }
.check input { width: 1.25rem; height: 1.25rem; margin: 0; flex: none; accent-color: var(--accent); }
.check + .hint { margin-left: 1.875rem; }

button, .button { display: inline-flex; align-items: center; justify-content: center; min-height: 2.75rem; margin-top: 1.25rem; padding: .5rem 1.125rem; border: 1px solid transparent; border-radius: 8px; background: var(--accent); color: var(--accent-ink); font-weight: 600; line-height: 1.25; cursor: pointer; text-decoration: none; }
button:hover, .button:hover { background: var(--accent-hover); color: var(--accent-ink); }
button.secondary, .button.secondary { background: var(--card); color: var(--ink); border-color: var(--field); }
button.secondary:hover, .button.secondary:hover { background: #eef1f5; color: var(--ink); }
button.danger { background: var(--danger); }
button.link { display: inline; min-height: 0; background: none; border: 0; color: var(--accent); padding: 0; margin: 0; font-weight: inherit; text-decoration: underline; text-underline-offset: .15em; }
button.link:hover { background: none; color: var(--accent-hover); }
.narrow form button[type=submit] { width: 100%; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.5rem; }
.actions > button, .actions > .button { margin-top: 0; }
.inline { display: inline; }
form.single button { margin-top: 0; }

.alert { padding: .75rem 1rem; border-radius: 8px; margin-bottom: 1rem; border: 1px solid; }
.alert.error { background: #fef3f2; color: var(--danger); border-color: #fecdca; }
.alert.info { background: #eff4ff; border-color: #c7d7fe; }
.alert.warn { background: #fffaeb; color: var(--warn); border-color: #fedf89; }
.alt { margin-top: 1.5rem; padding-top: 1rem; border-top: 1px solid var(--line); display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5rem 1rem; }
.alt p { margin: 0; }

.step { display: flex; align-items: center; gap: .625rem; font-size: 1.0625rem; margin-top: 1.5rem; }
.step-no { display: inline-flex; line-height: 1; align-items: center; justify-content: center; width: 1.75rem; height: 1.75rem; border-radius: 50%; background: #e3eafc; color: var(--accent); font-size: .9375rem; flex: none; }
.qr { display: inline-block; padding: .75rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 1rem; }
.qr svg { width: 200px; height: 200px; display: block; }
.secret { display: inline-block; font-family: var(--mono); font-size: 1.0625rem; letter-spacing: .06em; word-spacing: .15em; background: var(--bg); border: 1px solid var(--line); padding: .5rem .75rem; border-radius: 8px; overflow-wrap: anywhere; user-select: all; }

.codes { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); grid-template-rows: repeat(5, auto); grid-auto-flow: column; gap: .5rem 2rem; list-style: none; counter-reset: code; margin: 0 0 1rem; padding: 1rem 1.25rem; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; font-family: var(--mono); font-size: 1.0625rem; }
.codes li { counter-increment: code; white-space: nowrap; }
.codes li::before { content: counter(code) "."; display: inline-block; min-width: 3.5ch; margin-right: .75ch; text-align: right; color: var(--muted); font-size: .875rem; }
.codes .used { text-decoration: line-through; color: var(--muted); }

.items { list-style: none; margin: 0 0 .5rem; padding: 0; border-top: 1px solid var(--line); }
.items li { display: flex; justify-content: space-between; align-items: flex-start; gap: .5rem 1rem; padding: .875rem 0; border-bottom: 1px solid var(--line); }
.items .name { font-weight: 600; overflow-wrap: anywhere; }
.items li > form { flex: none; }
.items .meta { color: var(--muted); font-size: .875rem; margin-top: .125rem; }
table { width: 100%; border-collapse: collapse; } th, td { text-align: left; padding: .5rem .25rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.badge { display: inline-block; padding: .0625rem .5rem; border-radius: 999px; background: #e8ecf2; color: var(--ink); font-size: .8125rem; font-weight: 600; vertical-align: .1em; }
.badge.ok { background: #dcfae6; color: var(--ok); }
.status { display: flex; gap: .625rem; align-items: baseline; }

dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .625rem 1.5rem; margin: 0 0 1.5rem; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts + .button { margin-top: 0; }

/* Services Manager */
h3 { font-size: 1.0625rem; line-height: 1.3; margin: 1.25rem 0 .5rem; }
.channel + .channel { margin-top: 1.75rem; padding-top: 1.25rem; border-top: 1px solid var(--line); }
.channel h3 { margin-top: 0; }
.items .grow { flex: 1 1 auto; min-width: 0; }
.items .item-actions { display: flex; gap: 1rem; align-items: baseline; flex: none; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .125rem 1rem; margin: .375rem 0 0; font-size: .875rem; }
dl.summary > div { display: contents; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; overflow-wrap: anywhere; font-family: var(--mono); font-size: .8125rem; }
details.test { margin-top: .5rem; }
details.test summary { cursor: pointer; color: var(--accent); font-size: .9375rem; }
details.test form { margin-top: .25rem; }
ul.kinds { list-style: none; margin: 0; padding: 0; }
ul.kinds li { padding: .375rem 0; }
ul.kinds a { font-weight: 600; }
fieldset.choices { border: 0; margin: 1rem 0 0; padding: 0; }
fieldset.choices legend { font-weight: 600; padding: 0; }
fieldset.choices .check { margin-top: .5rem; }
form.send-code button { margin-top: .75rem; }
form.alt-form { margin-top: 1.5rem; padding-top: .5rem; border-top: 1px solid var(--line); }

/* Text-message and email codes: method choices, add forms, change-destination, resend */
.choice, .add-method { margin-top: 1.5rem; padding-top: 1.25rem; border-top: 1px solid var(--line); }
.choice h2, .add-method h3 { margin-top: 0; }
.items + .add-method { border-top: 0; padding-top: .75rem; }
form.send button { margin-top: .75rem; }
form.resend { margin-top: 1.25rem; }
form.resend p { margin: 0; }
form.resend button { margin-top: .5rem; }
.alt form.resend { flex: 1 1 100%; margin-top: 0; }
details.change { margin-top: .5rem; }
details.change summary { cursor: pointer; color: var(--accent); font-size: .9375rem; }
details.change form { margin-top: .25rem; }

@media (max-width: 560px) {
  main { margin: 1.25rem auto; }
  .card { padding: 1.25rem 1rem; }
  h1 { font-size: 1.4375rem; }
  dl.facts { grid-template-columns: 1fr; gap: 0; }
  dl.facts dd { margin-bottom: .75rem; }
  .codes { grid-template-columns: 1fr; grid-template-rows: none; grid-auto-flow: row; }
  .actions > button, .actions > .button { flex: 1 1 auto; }
  .items li { flex-wrap: wrap; }
  .items li > form { flex: 0 1 auto; min-width: 0; }
}
@media print {
  header.top, form, .no-print { display: none !important; }
  body, :root { background: #fff; }
  main { margin: 0; }
  .card { border: 0; box-shadow: none; }
}

/* Admin areas: users, policy, services. */
main:has(.admin-wide), main.wide { max-width: 60rem; }
.admin-nav { display: flex; flex-wrap: wrap; gap: .25rem; margin: 0 0 1.25rem; padding: .25rem; background: var(--card); border: 1px solid var(--line); border-radius: 10px; width: fit-content; }
.admin-nav a { padding: .375rem .875rem; border-radius: 7px; color: var(--ink); text-decoration: none; font-weight: 500; }
.admin-nav a:hover { background: #eef1f5; color: var(--ink); }
.admin-nav a[aria-current=page] { background: #e3eafc; color: var(--accent); font-weight: 600; }
.crumbs { margin: 0 0 .5rem; font-size: .9375rem; }
.badge.warn { background: #fef0c7; color: var(--warn); }
.badge.danger { background: #fee4e2; color: var(--danger); }
.tags { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem; }
.table-wrap { overflow-x: auto; margin: 0 0 .5rem; }
/* Wide tables scroll sideways inside their card; the first column stays in view, so a row is always named. */
.table-wrap th:first-child, .table-wrap td:first-child { position: sticky; left: 0; z-index: 1; background: var(--card); box-shadow: 1px 0 0 var(--line); }
@media (max-width: 560px) {
  .table-wrap th:first-child, .table-wrap td:first-child { min-width: 8rem; max-width: 42vw; }
}
table.users { min-width: 40rem; font-size: .9375rem; }
table.users th { font-size: .8125rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
table.users td .name { font-weight: 600; overflow-wrap: anywhere; }
table.users td .meta { color: var(--muted); font-size: .875rem; overflow-wrap: anywhere; }
.filters button { margin-top: 1rem; }
.filters > label:first-of-type { margin-top: 0; }
.actions > form button { margin-top: 0; }
.pager { display: flex; gap: 1.25rem; justify-content: flex-end; margin-top: .75rem; }
.org-picker { margin: 0 0 1.25rem; }
.org-picker label { margin-top: 0; }
.org-picker .row { display: flex; gap: .5rem; align-items: stretch; }
.org-picker .row select { flex: 1 1 auto; max-width: 24rem; }
.org-picker .row button { margin-top: 0; }
.policy-form fieldset { border: 0; margin: 1.25rem 0 0; padding: 0; }
.policy-form legend { font-weight: 600; padding: 0; }
.policy-form fieldset .check { margin-top: .5rem; }
.policy-form .choice-row .hint { margin: 0 0 0 1.875rem; }
.policy-form input.days { max-width: 8rem; }
.rule-value { font-weight: 600; }
.rule-source { color: var(--muted); }
.danger-zone { border-color: #fecdca; }
@media (max-width: 560px) {
  .org-picker .row { flex-direction: column; }
}
/* Deploys */
main:has(.deploy-wide) { max-width: 60rem; }
.deploy-badges { display: inline-flex; gap: .375rem; vertical-align: .15em; font-size: 1rem; }
h1 .deploy-badges { margin-left: .25rem; }
code.digest { font-family: var(--mono); font-size: .8125rem; overflow-wrap: anywhere; word-break: break-all; }
.items.changes .name { font-weight: 600; }
.items.targets li { align-items: center; }
table.history { min-width: 40rem; font-size: .9375rem; }
table.history th { font-size: .8125rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
table.history .meta { color: var(--muted); font-size: .875rem; }
ul.plain { list-style: none; margin: 0; padding: 0; }
form.deploy-confirm { margin-top: 1rem; }
dl.change-values { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .125rem .75rem; margin: .5rem 0 0; font-size: .875rem; }
dl.change-values dt { color: var(--muted); }
dl.change-values dd { margin: 0; min-width: 0; }
code.json, pre.json { font-family: var(--mono); font-size: .8125rem; overflow-wrap: anywhere; word-break: break-all; white-space: pre-wrap; }
pre.json { margin: .375rem 0 0; padding: .5rem .75rem; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; max-height: 20rem; overflow: auto; }
details.json-fold summary { cursor: pointer; }
details.setup { margin: 0 0 1.25rem; padding: .75rem 1rem; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; font-size: .9375rem; }
details.setup summary { cursor: pointer; font-weight: 600; }
details.setup[open] summary { margin-bottom: .5rem; }
details.setup ol { margin: 0 0 1rem; padding-left: 1.25rem; }
details.setup > :last-child { margin-bottom: 0; }
form.deploy-confirm input.code { max-width: 12rem; }
/* Security centre: sessions, devices and locations, activity */
.section-nav { display: flex; flex-wrap: wrap; gap: .25rem; margin: 0 0 1.25rem; padding: .25rem; background: var(--card); border: 1px solid var(--line); border-radius: 10px; width: fit-content; max-width: 100%; }
.section-nav a { padding: .375rem .875rem; border-radius: 7px; color: var(--ink); text-decoration: none; font-weight: 500; }
.section-nav a:hover { background: #eef1f5; color: var(--ink); }
.section-nav a[aria-current=page] { background: #e3eafc; color: var(--accent); font-weight: 600; }
time[title] { text-decoration: underline dotted var(--field); text-underline-offset: .2em; cursor: help; }
main:has(.activity-wide) { max-width: 52rem; }
.activity-filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
.activity-filters .field { flex: 1 1 14rem; }
.activity-filters label { margin-top: 0; }
.activity-filters button, .activity-filters .button { margin-top: 0; }
table.activity { min-width: 36rem; font-size: .9375rem; }
table.activity th { font-size: .8125rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
table.activity td.when { white-space: nowrap; }
table.activity .meta { color: var(--muted); font-size: .875rem; }
/* The person's side: errors beside their field, copy buttons, links only phones need, lock countdowns */
.field-error { color: var(--danger); font-weight: 600; font-size: .9375rem; margin: 0 0 .375rem; }
.secret-row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.secret-row button { margin-top: 0; }
button.small { padding: .25rem .75rem; font-size: .875rem; }
.phone-only { display: none; }
@media (max-width: 760px), (pointer: coarse) and (max-width: 1024px) { .phone-only { display: block; } }
form.make-default { margin-top: .375rem; font-size: .9375rem; }
/* Dark theme: the same page, following the system's prefers-color-scheme. Colours chosen for WCAG AA
   contrast on the dark card and background; the QR code keeps its white box so phones can scan it. */
@media screen and (prefers-color-scheme: dark) {
  :root { color-scheme: dark; --ink:#e6e9ee; --muted:#a9b3c1; --line:#353c47; --field:#7f8a99; --bg:#101317; --card:#191d23; --accent:#8fb0ff; --accent-hover:#b5caff; --accent-ink:#0d1117; --danger:#ff9b91; --ok:#7ddfaa; --warn:#f8c863; }
  .card { box-shadow: none; }
  input[type=text], input[type=email], input[type=password], input[type=number], input[type=tel], select { background: #0d1014; }
  button.danger { color: #1b0d0b; }
  button.secondary:hover, .button.secondary:hover, .admin-nav a:hover, .section-nav a:hover { background: #262c35; }
  .alert.error { background: #351714; border-color: #7a2e26; }
  .alert.info { background: #15203a; border-color: #2f4a85; }
  .alert.warn { background: #2e2309; border-color: #6b4e0f; }
  .badge { background: #2c333d; }
  .badge.ok { background: #0f3321; }
  .badge.warn { background: #3b2c06; }
  .badge.danger { background: #451a16; }
  .step-no, .admin-nav a[aria-current=page], .section-nav a[aria-current=page] { background: #22315a; }
  .danger-zone { border-color: #7a2e26; }
  .qr { border-color: #fff; }
}
/* Phone approvals: the number to pick, and the phone's choices. */
.approval-number { font-size: 3.5rem; font-weight: 700; letter-spacing: .1em; text-align: center; margin: .5rem 0; }
.approvals { list-style: none; padding: 0; }
.approval .choices { display: flex; gap: .75rem; margin: .75rem 0; }
.approval .choices button { flex: 1; font-size: 1.75rem; min-height: 3.5rem; }
.approval .actions { display: flex; gap: .5rem; flex-wrap: wrap; }
form.inline { display: inline; margin-left: .5rem; }
`;
