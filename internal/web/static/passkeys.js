// Custos passkeys (WebAuthn). The server hands out the options of a
// ceremony as JSON with binary values in base64url; this script turns them
// into ArrayBuffers for navigator.credentials, turns the browser's answer
// back into JSON and submits it in a hidden field of an ordinary form, so
// the server answers as it does for a typed code. Without JavaScript, or
// in a browser without WebAuthn, the passkey controls stay hidden and the
// code forms work as before. No inline script: the CSP stays strict.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) return;
  document.querySelectorAll("[data-passkey], [data-passkey-create]").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (el) { el.hidden = true; });

  function fromB64u(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64u(buf) {
    if (!buf) return null;
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ids(list) {
    (list || []).forEach(function (c) { c.id = fromB64u(c.id); });
  }

  // options asks the server for a ceremony: a POST with the session's CSRF
  // token from the form, answered with JSON or {"error": "..."}.
  function options(form, url) {
    var csrf = form.querySelector("input[name=csrf]");
    return fetch(url, {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf ? csrf.value : ""}})
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) throw new Error(body.error || resp.statusText);
          return body.publicKey;
        });
      });
  }

  function answer(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toB64u(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {clientDataJSON: toB64u(r.clientDataJSON)}
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64u(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      out.response.userHandle = toB64u(r.userHandle);
    }
    return JSON.stringify(out);
  }

  function report(form, err) {
    var el = form.querySelector("[data-passkey-status]");
    if (!el) return;
    var cancelled = err && (err.name === "NotAllowedError" || err.name === "AbortError");
    el.textContent = cancelled ? el.getAttribute("data-msg-cancelled") : el.getAttribute("data-msg-failed") + " " + (err && err.message || "");
    el.hidden = false;
  }

  function submit(form, cred) {
    form.querySelector("[data-passkey-answer]").value = answer(cred);
    form.submit(); // a plain submit: the code input's "required" does not apply
  }

  var busy = false;

  // Sign-in's second step and step-up: use a passkey.
  document.addEventListener("click", function (e) {
    var btn = e.target instanceof Element && e.target.closest("[data-passkey-get]");
    if (!btn || busy) return;
    e.preventDefault();
    var form = btn.closest("form");
    busy = true;
    options(form, btn.getAttribute("data-passkey-get")).then(function (pk) {
      pk.challenge = fromB64u(pk.challenge);
      ids(pk.allowCredentials);
      return navigator.credentials.get({publicKey: pk});
    }).then(function (cred) { submit(form, cred); }, function (err) { busy = false; report(form, err); });
  });

  // Account page: add a passkey under the name typed.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-passkey-create")) return;
    e.preventDefault();
    if (busy || !form.reportValidity()) return;
    busy = true;
    options(form, form.getAttribute("data-passkey-create")).then(function (pk) {
      pk.challenge = fromB64u(pk.challenge);
      pk.user.id = fromB64u(pk.user.id);
      ids(pk.excludeCredentials);
      return navigator.credentials.create({publicKey: pk});
    }).then(function (cred) { submit(form, cred); }, function (err) { busy = false; report(form, err); });
  });
})();
