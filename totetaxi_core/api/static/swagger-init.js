// Starts Swagger UI on /api/v1/docs. A file, not an inline script: the page's
// Content-Security-Policy allows scripts from this origin's files only.
// The document's URL comes from the page (data-openapi-url), so this file never changes.
window.addEventListener("load", function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // A bearer token typed into "Authorize" survives a reload (kept in localStorage).
    persistAuthorization: true,
    // No call to swagger.io's validator: the machine may be offline, and the suite validates.
    validatorUrl: null,
    displayRequestDuration: true,
    filter: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
