// Starts Swagger UI on the API reference page (a static file: the CSP allows no inline script).
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    // Calls from the page carry the token typed under "Authorize", never the login cookie.
    withCredentials: false,
    persistAuthorization: false,
  });
});
