/**
 * The phone approver web app (issue 19): served as files so the CSP can forbid inline script.
 * The device key is made by WebCrypto (ECDSA P-256) with a non-extractable private key kept in
 * IndexedDB; only the public key leaves the phone. Requests arrive by Web Push where the browser
 * can subscribe, and are always listed while the app is open (signed listing, every few seconds),
 * so a phone without push still works. The texts signed here are core/approval.ts's, byte for byte.
 */
export const APPROVER_SCRIPT = `
(function () {
  'use strict';
  var root = document.getElementById('approver');
  if (!root) return;
  var statusLine = document.getElementById('approver-status');
  var pairForm = document.getElementById('pair-form');
  var list = document.getElementById('requests');
  var empty = document.getElementById('no-requests');

  function say(text) { statusLine.textContent = text; }
  function b64url(bytes) {
    var s = ''; var a = new Uint8Array(bytes);
    for (var i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
    return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function fromB64url(text) {
    var s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open('twofold-approver', 1);
      open.onupgradeneeded = function () { open.result.createObjectStore('device'); };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function store(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction('device', mode);
        var req = work(tx.objectStore('device'));
        tx.oncomplete = function () { resolve(req && req.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function loadDevice() { return store('readonly', function (s) { return s.get('self'); }); }
  function saveDevice(device) { return store('readwrite', function (s) { return s.put(device, 'self'); }); }
  function sign(key, text) {
    return crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(text)).then(b64url);
  }
  function post(path, body) {
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit' })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, json: j }; }); });
  }

  // Web Push where the browser has it; never required.
  function subscribe() {
    if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return Promise.resolve(null);
    return navigator.serviceWorker.register('/approver/sw.js', { scope: '/approver/' })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (reg) {
        return Notification.requestPermission().then(function (permission) {
          if (permission !== 'granted') return null;
          return fetch('/api/v1/approver/vapid-key').then(function (r) { return r.json(); }).then(function (k) {
            return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(k.publicKey) });
          });
        });
      })
      .then(function (sub) { return sub ? sub.toJSON() : null; })
      .catch(function () { return null; });
  }

  function pair(token, name) {
    say('Pairing this phone…');
    var keys;
    return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
      .then(function (k) { keys = k; return crypto.subtle.exportKey('jwk', k.publicKey); })
      .then(function (jwk) {
        return subscribe().then(function (subscription) {
          return post('/api/v1/approver/pair', { token: token, name: name, publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, subscription: subscription });
        });
      })
      .then(function (res) {
        if (res.status !== 201) { say((res.json.error && res.json.error.message) || 'Pairing failed.'); return; }
        history.replaceState(null, '', '/approver/');
        return saveDevice({ deviceId: res.json.deviceId, name: res.json.name, privateKey: keys.privateKey }).then(function () {
          pairForm.hidden = true;
          say('This phone is paired as “' + res.json.name + '”. Requests appear here.');
          start();
        });
      })
      .catch(function () { say('Pairing failed. Make a new link on your Security page and try again.'); });
  }

  var device = null;
  function decide(request, decision, number) {
    var message = ['twofold-approval-v1', request.requestId, request.challenge, request.binding, number === null ? '-' : String(number), decision].join('\\n');
    return sign(device.privateKey, message).then(function (signature) {
      var body = { requestId: request.requestId, decision: decision, signature: signature };
      if (number !== null) body.number = number;
      return post('/api/v1/approver/decisions', body);
    }).then(function (res) {
      if (res.status === 200) say(res.json.state === 'approved' ? 'Approved.' : res.json.state === 'reported' ? 'Reported. The sign-in was stopped and your account owner was emailed.' : 'Denied.');
      else say((res.json.error && res.json.error.message) || 'That did not work.');
      refresh();
    });
  }
  function render(requests) {
    list.textContent = '';
    empty.hidden = requests.length > 0;
    requests.forEach(function (r) {
      var item = document.createElement('li');
      item.className = 'card approval';
      var title = document.createElement('h2');
      title.textContent = r.description.action + ' from ' + r.description.browser;
      var where = document.createElement('p');
      where.className = 'muted';
      where.textContent = (r.description.place || 'Unknown place') + ' · ' + r.description.ip + ' · ' + new Date(r.description.at).toLocaleTimeString();
      if (r.description.target) where.textContent += ' · ' + r.description.target + ' (' + r.description.changes + ' changes)';
      var ask = document.createElement('p');
      ask.textContent = 'Tap the number shown on the screen you are signing in on.';
      var choices = document.createElement('div');
      choices.className = 'choices';
      r.choices.forEach(function (n) {
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = String(n);
        b.setAttribute('aria-label', 'Number ' + n);
        b.addEventListener('click', function () { decide(r, 'approve', n); });
        choices.appendChild(b);
      });
      var deny = document.createElement('button');
      deny.type = 'button'; deny.className = 'secondary'; deny.textContent = 'Deny';
      deny.addEventListener('click', function () { decide(r, 'deny', null); });
      var report = document.createElement('button');
      report.type = 'button'; report.className = 'danger'; report.textContent = "This wasn't me";
      report.addEventListener('click', function () { decide(r, 'report', null); });
      var row = document.createElement('div');
      row.className = 'actions';
      row.appendChild(deny); row.appendChild(report);
      item.appendChild(title); item.appendChild(where); item.appendChild(ask); item.appendChild(choices); item.appendChild(row);
      list.appendChild(item);
    });
  }
  function refresh() {
    if (!device) return Promise.resolve();
    var now = Date.now();
    return sign(device.privateKey, ['twofold-approver-list-v1', device.deviceId, String(now)].join('\\n'))
      .then(function (signature) { return post('/api/v1/approver/pending', { deviceId: device.deviceId, timestamp: now, signature: signature }); })
      .then(function (res) {
        if (res.status === 200) render(res.json.requests);
        else if (res.status === 404) { device = null; say('This phone is no longer paired. Pair it again from your Security page.'); render([]); }
      })
      .catch(function () { /* offline: try again on the next tick */ });
  }
  var timer = null;
  function start() {
    loadDevice().then(function (d) {
      if (!d) return;
      device = d;
      root.dataset.paired = d.deviceId;
      if (!statusLine.textContent) say('Paired as “' + d.name + '”. Requests appear here.');
      refresh();
      if (!timer) timer = setInterval(refresh, 3000);
    });
  }

  var token = (location.hash.match(/^#pair=([A-Za-z0-9_-]+)$/) || [])[1];
  if (token) {
    pairForm.hidden = false;
    pairForm.addEventListener('submit', function (e) {
      e.preventDefault();
      var name = document.getElementById('phone-name').value;
      pair(token, name);
    });
  }
  if ('serviceWorker' in navigator) navigator.serviceWorker.addEventListener('message', function () { refresh(); });
  start();
})();
`;

/** The service worker: shows a pushed request as a notification; a tap opens the app, which lists it. */
export const APPROVER_SERVICE_WORKER = `
self.addEventListener('push', function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var d = data.description || {};
  event.waitUntil(self.registration.showNotification(d.action ? d.action + ' request' : 'Approval request', {
    body: (d.browser || 'A browser') + (d.place ? ' in ' + d.place : '') + '. Open to approve.',
    tag: data.requestId || 'approval',
    icon: '/approver/icon.svg',
    requireInteraction: true,
  }));
  self.clients.matchAll({ type: 'window' }).then(function (all) { all.forEach(function (c) { c.postMessage({ type: 'approval' }); }); });
});
self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then(function (all) {
    for (var i = 0; i < all.length; i++) if ('focus' in all[i]) return all[i].focus();
    return self.clients.openWindow('/approver/');
  }));
});
`;

export const APPROVER_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" fill="#1d4ed8"/><path d="M150 270l70 70 142-150" fill="none" stroke="#fff" stroke-width="48" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export function approverManifest(companyName: string): string {
  return JSON.stringify({
    name: `${companyName} approvals`,
    short_name: 'Approvals',
    start_url: '/approver/',
    scope: '/approver/',
    display: 'standalone',
    background_color: '#ffffff',
    theme_color: '#1d4ed8',
    icons: [{ src: '/approver/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any maskable' }],
  });
}
