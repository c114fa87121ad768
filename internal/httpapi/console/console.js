// The console's one script: the WebAuthn ceremonies (docs/console.md). It
// posts to the JSON API's passkey routes from Ward's own pages, so the
// session cookie and the same-origin check apply as to any form; the
// options and the credential cross as WebAuthn's JSON forms.
'use strict';
(function () {
  function show(msg) {
    let e = document.getElementById('error');
    if (!e) {
      e = document.createElement('p');
      e.id = 'error';
      e.className = 'error';
      e.setAttribute('role', 'alert');
      document.querySelector('main h1').after(e);
    }
    e.textContent = msg;
  }

  async function post(path, body) {
    const r = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json'},
      body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) {
      throw new Error(j.detail || ('the server answered ' + r.status));
    }
    return j;
  }

  const get = (options) => navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)});

  const ceremonies = {
    // A discoverable sign-in: the browser offers the passkeys it holds for
    // Ward; the session arrives in the cookie.
    async 'passkey-signin'() {
      const begin = await post('/v1/auth/passkeys/signin/begin');
      const cred = await get(begin.options);
      await post('/v1/auth/passkeys/signin/finish', {credential: cred.toJSON()});
      location.assign('/');
    },
    // A second factor for the signed-in session (the token rotates into
    // the cookie).
    async 'passkey-verify'() {
      const cred = await get(await post('/v1/auth/passkeys/verify/begin'));
      await post('/v1/auth/passkeys/verify/finish', {credential: cred.toJSON()});
      location.assign('/');
    },
    // Emergency access (break-glass): a designated member's passkey and a
    // reason; the 60-minute session arrives in the cookie.
    async 'break-glass'() {
      const reason = document.getElementById('reason').value.trim();
      if (!reason) {
        throw new Error('Say why you need emergency access.');
      }
      const begin = await post('/v1/auth/passkeys/signin/begin');
      const cred = await get(begin.options);
      await post('/v1/auth/break-glass/activate', {credential: cred.toJSON(), reason: reason});
      location.assign('/');
    },
    // A new passkey for the signed-in member (also their second factor).
    async 'passkey-register'() {
      const options = await post('/v1/auth/passkeys/register/begin');
      const cred = await navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)});
      const field = document.getElementById('passkey-name');
      const name = (field && field.value.trim()) || 'Passkey';
      await post('/v1/auth/passkeys/register/finish', {name: name, credential: cred.toJSON()});
      location.assign('/?passkey=added');
    },
  };

  document.addEventListener('click', async function (ev) {
    const button = ev.target.closest('[data-webauthn]');
    if (!button || !ceremonies[button.dataset.webauthn]) {
      return;
    }
    ev.preventDefault();
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) {
      show('This browser cannot use passkeys here: use a link and your authenticator app.');
      return;
    }
    button.disabled = true;
    try {
      await ceremonies[button.dataset.webauthn]();
    } catch (e) {
      show(e && e.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.' : (e.message || String(e)));
    } finally {
      button.disabled = false;
    }
  });
})();
