// Progress of background work (an import, a campaign being prepared) without reloading: poll
// the section's JSON (data-progress-url), update its [data-field] numbers and its <progress>,
// and when the work is done put the page's fresh content in place. Without JavaScript the
// page refreshes itself (a <meta refresh> inside <noscript>).
(function () {
  "use strict";
  var section = document.querySelector("[data-progress-url]");
  if (!section || section.dataset.done === "true") return;
  var url = section.dataset.progressUrl;
  var bar = section.querySelector("progress");
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

  // The result (skipped rows, links) replaces the progress in place, so the reader keeps their
  // place and focus lands on the result heading; a full reload is the fallback.
  function showResult() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("content");
        var main = document.getElementById("content");
        if (!fresh || !main) throw new Error("no content");
        main.innerHTML = fresh.innerHTML;
        var heading = document.querySelector("[data-result-heading]");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
      })
      .catch(function () {
        window.location.reload();
      });
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
          showResult();
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
