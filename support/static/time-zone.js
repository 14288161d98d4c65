// The login form sends the browser's time zone (an IANA name such as "Europe/Berlin"); the
// first login keeps it as the person's zone. The server checks the name against zoneinfo.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
    input.value = zone;
  });
})();
