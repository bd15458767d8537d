/* The template editor's live preview (templates/email_template.jinja2, loaded at the end of the
   page, so the elements it uses exist). A file rather than an inline script: the console's
   Content-Security-Policy allows script-src 'self' only.

   After a pause in typing, the three parts go to the preview endpoint (the session's CSRF token
   in a header) and the answer replaces the preview. Answers that arrive out of order are dropped:
   only the latest typing is shown. */
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form || !window.fetch) { return; }
  var state = document.getElementById("preview-state");
  var errorList = document.getElementById("preview-errors");
  var subject = document.getElementById("preview-subject");
  var text = document.getElementById("preview-text");
  var frame = document.getElementById("preview-html");
  var noHtml = document.getElementById("preview-no-html");
  var timer = null;
  var latest = 0;

  if (form.dataset.canEdit !== "true") {
    /* A viewer's form has nowhere to go: Enter in the subject must not submit it. */
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  }

  function showErrors(errors) {
    errorList.textContent = "";
    Object.keys(errors || {}).forEach(function (part) {
      var item = document.createElement("li");
      item.dataset.part = part;
      item.setAttribute("data-testid", "preview-error-" + part);
      item.textContent = errors[part];
      errorList.appendChild(item);
    });
  }

  function show(data) {
    showErrors(data.errors);
    if (typeof data.subject === "string") { subject.textContent = data.subject; }
    if (typeof data.text === "string") { text.textContent = data.text; }
    if (typeof data.html === "string") {
      frame.hidden = !data.html;
      noHtml.hidden = !!data.html;
      frame.srcdoc = data.html;  /* a property: the HTML never becomes part of this page */
    }
    state.textContent = data.errors ? "not rendered: see the errors" : "up to date";
  }

  function update() {
    var mine = ++latest;
    var body = new URLSearchParams();
    ["subject", "text_body", "html_body"].forEach(function (name) {
      body.append(name, form.elements[name].value);
    });
    state.textContent = "updating…";
    fetch(form.dataset.previewUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": form.dataset.csrf, "Accept": "application/json"}
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      if (mine === latest) { show(data); }
    }).catch(function () {
      if (mine === latest) {
        state.textContent = "unavailable: reload the page (your session may have ended)";
      }
    });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  });
}());
