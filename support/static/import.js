// Import progress without reloading: poll the batch's JSON and update the bar and the numbers.
// Without JavaScript the page refreshes itself (a <meta refresh> inside <noscript>).
(function () {
  "use strict";
  var section = document.getElementById("import-progress");
  if (!section || section.dataset.done === "true") return;
  var url = section.dataset.progressUrl;
  var bar = document.getElementById("import-bar");
  var format = new Intl.NumberFormat("en-US");

  function show(data) {
    section.querySelectorAll("[data-field]").forEach(function (el) {
      var value = data[el.dataset.field];
      if (value === undefined) return;
      el.textContent = typeof value === "number" && el.dataset.field !== "percent" ? format.format(value) : value;
    });
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.done) {
          window.location.reload(); // the result page lists the skipped rows
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // a restart or a network hiccup: keep trying, slower
      });
  }

  window.setTimeout(poll, 500);
})();
