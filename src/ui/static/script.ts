import { WEBAUTHN_SCRIPT } from './webauthn.js';

/**
 * The only script: download, print and copy for keys and backup codes. Served as a file so the CSP can
 * forbid inline script entirely.
 */
export const SCRIPT = `
// Countdowns (a lock's remaining time): the server says how many seconds were left when it
// rendered the page; counting from page load keeps them right whatever the browser's clock says.
(function () {
  var started = Date.now();
  var clocks = document.querySelectorAll('[data-countdown]');
  if (clocks.length === 0) return;
  function text(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + r : m + ':' + r;
  }
  function tick() {
    var gone = Math.floor((Date.now() - started) / 1000);
    var running = false;
    clocks.forEach(function (el) {
      var left = Math.max(0, Number(el.dataset.countdown) - gone);
      if (left > 0) { running = true; el.textContent = el.dataset.countdownUnit === 'seconds' ? left + (left === 1 ? ' second' : ' seconds') : text(left); }
      else if (el.dataset.countdownDone) { var line = el.closest('p'); if (line) line.textContent = el.dataset.countdownDone; }
      else { el.textContent = text(0); }
    });
    if (running) setTimeout(tick, 1000);
  }
  tick();
})();
// An account still on UTC is offered the browser's own time zone (the person still saves it).
(function () {
  var offer = document.querySelector('[data-browser-zone]');
  var select = document.getElementById('timeZone');
  if (!offer || !select) return;
  var zone = '';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return; }
  if (!zone || zone === 'UTC' || !select.querySelector('option[value="' + zone.replace(/"/g, '') + '"]')) return;
  offer.querySelector('[data-browser-zone-name]').textContent = zone.replace(/_/g, ' ');
  offer.dataset.zone = zone;
  offer.hidden = false;
})();
document.addEventListener('click', function (event) {
  var target = event.target;
  if (!(target instanceof HTMLElement)) return;
  if (target.dataset.action === 'print') { window.print(); }
  if (target.dataset.action === 'use-browser-zone') {
    var holder = target.closest('[data-browser-zone]');
    var field = document.getElementById('timeZone');
    if (holder && field) { field.value = holder.dataset.zone; field.focus(); }
  }
  if (target.dataset.action === 'copy') {
    var from = document.getElementById(target.dataset.copyFrom || '');
    if (!from || !navigator.clipboard) return;
    var original = target.textContent;
    navigator.clipboard.writeText(from.textContent.replace(/\\s+/g, from.dataset.copyKeepSpaces ? ' ' : '').trim()).then(function () {
      target.textContent = target.dataset.copiedText || 'Copied';
      setTimeout(function () { target.textContent = original; }, 2000);
    });
  }
  if (target.dataset.action === 'copy-codes') {
    var codes = [];
    document.querySelectorAll('[data-backup-code]').forEach(function (el) { codes.push(el.textContent.trim()); });
    if (!navigator.clipboard) return;
    var label = target.textContent;
    navigator.clipboard.writeText(codes.join('\\n')).then(function () {
      target.textContent = target.dataset.copiedText || 'Copied';
      setTimeout(function () { target.textContent = label; }, 2000);
    });
  }
  if (target.dataset.action === 'download-codes') {
    // The file says where and for whom the codes work, and when they were made: a saved file
    // found months later must still make sense.
    var list = document.querySelectorAll('[data-backup-code]');
    var owner = document.getElementById('backup-codes');
    var site = owner && owner.dataset.site, account = owner && owner.dataset.account, day = owner && owner.dataset.date;
    var lines = site ? ['Backup codes for ' + account, 'Site: ' + site, 'Created: ' + day, ''] : [document.title, ''];
    list.forEach(function (el) { lines.push(el.textContent.trim()); });
    lines.push('', 'Each code works once. Keep them somewhere safe.');
    var blob = new Blob([lines.join('\\n') + '\\n'], { type: 'text/plain' });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    var slug = function (v) { return String(v).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''); };
    a.download = site ? 'backup-codes-' + slug(site) + '-' + slug(account) + '-' + day + '.txt' : 'backup-codes.txt';
    document.body.appendChild(a); a.click(); a.remove();
  }
});
// Phone approval at the second step: ask whether the phone has answered; once approved, the
// form (whose button is the fallback) is sent by itself. Denied or expired: say so.
(function () {
  var form = document.querySelector('form[data-approval-request]');
  if (!form) return;
  var outcome = form.querySelector('[data-approval-outcome]');
  var id = form.getAttribute('data-approval-request');
  // The sign-in step by default; a step-up or a deploy names its own status address.
  var status = form.getAttribute('data-approval-status') || '/sign-in/second-factor/approval?';
  var sep = status.indexOf('?') === -1 ? '?' : (/[?&]$/.test(status) ? '' : '&');
  function ask() {
    fetch(status + sep + 'request=' + encodeURIComponent(id), { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.state === 'approved') {
          // A form that also asks for the password waits for it; the button then sends both.
          if (form.checkValidity && !form.checkValidity()) { outcome.textContent = 'Approved on your phone. Enter your password and confirm.'; return; }
          form.submit(); return;
        }
        if (j.state === 'denied') { outcome.textContent = 'The request was denied on your phone.'; return; }
        if (j.state === 'expired') { outcome.textContent = 'The request expired. Choose your phone again or use another method.'; return; }
        if (j.state === 'ended') { outcome.textContent = 'This sign-in has ended. Sign in again.'; return; }
        setTimeout(ask, 1500);
      })
      .catch(function () { setTimeout(ask, 3000); });
  }
  setTimeout(ask, 1000);
})();
`
  // Security keys and passkeys (navigator.credentials), kept in a module of their own.
  + WEBAUTHN_SCRIPT;
