// Passkeys on the hosted pages: the one script they run. A form marked `data-passkey`
// runs a WebAuthn ceremony when it is submitted and posts the browser's answer, as JSON,
// in its hidden `credential` field:
//   data-passkey="sign-in"  asks the server for options (POST /login/passkey), then get()
//   data-passkey="get"      get() with the options in data-options (a second factor)
//   data-passkey="create"   create() with the options in data-options (a new passkey)
// Without WebAuthn the sign-in form stays hidden and the others say why they cannot work.
"use strict";

(function () {
  const supported = typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  async function ceremony(form) {
    const kind = form.dataset.passkey;
    let options = form.dataset.options ? JSON.parse(form.dataset.options) : null;
    if (kind === "sign-in") {
      const started = await fetch("/login/passkey", { method: "POST", credentials: "same-origin" });
      if (!started.ok) throw new Error("the server did not start the sign-in");
      const body = await started.json();
      form.elements.hash.value = body.hash;
      options = body.publicKey;
    }
    if (kind === "create") {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
      return navigator.credentials.create({ publicKey });
    }
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    return navigator.credentials.get({ publicKey });
  }

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    const status = form.querySelector("[data-passkey-status]");
    if (!supported) {
      if (status) status.textContent = "This browser cannot use passkeys.";
      continue;
    }
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (status) status.textContent = "";
      try {
        const credential = await ceremony(form);
        form.elements.credential.value = JSON.stringify(credential.toJSON());
        form.submit();
      } catch (err) {
        if (status) status.textContent = "The passkey was not used. Try again, or choose another way.";
      }
    });
  }
})();
