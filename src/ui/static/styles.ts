/** The whole stylesheet: served at /static/app.css with a content hash, no build step. */
export const STYLES = `
:root { --ink:#1b1f24; --muted:#5b6470; --line:#d9dee4; --bg:#f6f7f9; --card:#fff; --accent:#2557d6; --accent-ink:#fff; --danger:#b42318; --ok:#067647; --warn:#b54708; --radius:10px; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.5; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header.top { display: flex; justify-content: space-between; align-items: center; padding: .75rem 1.25rem; background: var(--card); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--ink); }
header.top nav { display: flex; gap: 1rem; align-items: center; }
main { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1.5rem; margin-bottom: 1.25rem; }
.narrow { max-width: 26rem; margin-left: auto; margin-right: auto; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; } h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=email], input[type=password], input[type=number], select { width: 100%; padding: .6rem .7rem; border: 1px solid var(--line); border-radius: 8px; font-size: 1rem; }
input:focus, button:focus, a:focus { outline: 3px solid #9bb5f3; outline-offset: 1px; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
button, .button { display: inline-block; margin-top: 1rem; padding: .6rem 1rem; border: 0; border-radius: 8px; background: var(--accent); color: var(--accent-ink); font-size: 1rem; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #e8ecf2; color: var(--ink); }
button.danger { background: var(--danger); }
button.link { background: none; color: var(--accent); padding: 0; margin: 0; text-decoration: underline; }
.inline { display: inline; }
.alert { padding: .75rem 1rem; border-radius: 8px; margin-bottom: 1rem; }
.alert.error { background: #fef3f2; color: var(--danger); border: 1px solid #fecdca; }
.alert.info { background: #eff4ff; border: 1px solid #c7d7fe; }
.alert.warn { background: #fffaeb; color: var(--warn); border: 1px solid #fedf89; }
.muted { color: var(--muted); font-size: .925rem; }
.secret { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 1.1rem; letter-spacing: .05em; background: var(--bg); padding: .5rem .75rem; border-radius: 6px; display: inline-block; }
.qr svg { width: 220px; height: 220px; display: block; }
.codes { columns: 2; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 1.1rem; padding-left: 1.25rem; }
.codes .used { text-decoration: line-through; color: var(--muted); }
table { width: 100%; border-collapse: collapse; } th, td { text-align: left; padding: .5rem .25rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: #e8ecf2; font-size: .8rem; }
.badge.ok { background: #dcfae6; color: var(--ok); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
@media (max-width: 560px) { main { margin: 1rem auto; } .card { padding: 1rem; } .codes { columns: 1; } }
@media print { header.top, form, .no-print { display: none !important; } .card { border: 0; } }
`;
