// Keeps an open page current without losing what a person is typing: it polls the page's small
// status document, reloads when what the page shows changed and no form field has content, and
// otherwise only says so. A new report hash alone (a waiting window re-evaluated) never reloads.
(function () {
  const me = document.currentScript;
  const seen = { version: me.dataset.version, hash: me.dataset.hash };
  const note = document.getElementById("refresh-note");
  const url = window.location.pathname.replace(/\/$/, "") + "/version";

  function typing() {
    const fields = document.querySelectorAll(
      "form textarea, form input:not([type=hidden]):not([type=submit])"
    );
    return Array.from(fields).some((f) => f.value.trim() !== "");
  }

  function tell(text) {
    note.hidden = false;
    note.textContent = text + " ";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Reload";
    button.addEventListener("click", () => window.location.reload());
    note.appendChild(button);
  }

  setInterval(async () => {
    let now;
    try {
      const r = await fetch(url, { credentials: "same-origin" });
      now = await r.json();
    } catch (e) {
      return; // keep the page; try again
    }
    if (now.version !== seen.version) {
      if (!typing()) {
        window.location.reload();
        return;
      }
      tell(
        "This changed while you were typing" + (now.phase ? " (now " + now.phase + ")" : "") +
        ": your text is kept. Copy it if you need it, then reload."
      );
      return;
    }
    if (now.hash && seen.hash && now.hash !== seen.hash) {
      tell(
        "The report was re-evaluated (hash " + now.hash.slice(0, 12) + "…). You are reading " +
        seen.hash.slice(0, 12) + "…; an approval is given on the report you read: reload to read the new one."
      );
    }
  }, 2000);
})();
