/**
 * Security keys and passkeys in the page: a form marked `data-webauthn="register"` or `"get"`
 * carries the server's options (WebAuthn's JSON form) in `data-webauthn-options`; submitting it
 * asks the browser (navigator.credentials), puts the answer as JSON into the field named by
 * `data-webauthn-field`, and posts the form. `"passkey"` is a `get` that names nobody (sign-in
 * without an email) and also waits in the email field's autofill where the browser offers that. Part of the one static script (no inline script).
 */
export const WEBAUTHN_SCRIPT = String.raw`
(function () {
  var forms = document.querySelectorAll('form[data-webauthn]');
  if (forms.length === 0) return;
  function bytes(text) {
    var s = text.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function text(buffer) {
    var view = new Uint8Array(buffer), bin = '';
    for (var i = 0; i < view.length; i++) bin += String.fromCharCode(view[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: bytes(c.id) }); });
  }
  function publicKey(kind, o) {
    var p = Object.assign({}, o, { challenge: bytes(o.challenge) });
    if (kind === 'register') { p.user = Object.assign({}, o.user, { id: bytes(o.user.id) }); p.excludeCredentials = withIds(o.excludeCredentials); }
    else { p.allowCredentials = withIds(o.allowCredentials); }
    return p;
  }
  function answer(kind, cred) {
    var r = cred.response;
    var out = { id: cred.id, rawId: text(cred.rawId), type: cred.type, clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {} };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (kind === 'register') {
      out.response = { clientDataJSON: text(r.clientDataJSON), attestationObject: text(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] };
    } else {
      out.response = { clientDataJSON: text(r.clientDataJSON), authenticatorData: text(r.authenticatorData), signature: text(r.signature) };
      if (r.userHandle) out.response.userHandle = text(r.userHandle);
    }
    return out;
  }
  forms.forEach(function (form) {
    var status = form.querySelector('[data-webauthn-status]');
    var say = function (message) { if (status) status.textContent = message; };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say('This browser cannot use security keys or passkeys. Use another method.');
      form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      return;
    }
    var kind = form.dataset.webauthn;
    var send = function (cred) {
      form.querySelector('[name="' + form.dataset.webauthnField + '"]').value = JSON.stringify(answer(kind, cred));
      form.submit();
    };
    // A passkey sign-in also waits in the email field's autofill (conditional UI), where the browser
    // offers it; pressing the button ends that wait first, as a browser allows one request at a time.
    var waiting = null;
    if (kind === 'passkey' && window.AbortController && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available) return;
        waiting = new AbortController();
        navigator.credentials.get({ publicKey: publicKey(kind, JSON.parse(form.dataset.webauthnOptions || '{}')), mediation: 'conditional', signal: waiting.signal })
          .then(send).catch(function () { /* ended or aborted: the button still works */ });
      }).catch(function () {});
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (waiting) { waiting.abort(); waiting = null; }
      var options = publicKey(kind, JSON.parse(form.dataset.webauthnOptions || '{}'));
      say('Follow your browser: touch your security key, or confirm with your fingerprint, face or PIN.');
      var asked = kind === 'register' ? navigator.credentials.create({ publicKey: options }) : navigator.credentials.get({ publicKey: options });
      asked.then(send).catch(function (error) {
        say(error && error.name === 'NotAllowedError' ? 'The request was cancelled or timed out. Try again.' : 'Your security key could not be used here' + (error && error.message ? ': ' + error.message : '.'));
      });
    });
  });
})();
`;
