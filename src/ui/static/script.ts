/**
 * The only script: download and print for backup codes. Served as a file so the CSP can
 * forbid inline script entirely.
 */
export const SCRIPT = `
document.addEventListener('click', function (event) {
  var target = event.target;
  if (!(target instanceof HTMLElement)) return;
  if (target.dataset.action === 'print') { window.print(); }
  if (target.dataset.action === 'download-codes') {
    var list = document.querySelectorAll('[data-backup-code]');
    var lines = [document.title, ''];
    list.forEach(function (el) { lines.push(el.textContent); });
    lines.push('', 'Each code works once. Keep them somewhere safe.');
    var blob = new Blob([lines.join('\\n') + '\\n'], { type: 'text/plain' });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'backup-codes.txt';
    document.body.appendChild(a); a.click(); a.remove();
  }
});
`;
