/* Start-up of Swagger UI for /docs (kept out of the page: the CSP forbids inline scripts). */
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis]
  });
});
