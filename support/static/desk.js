// The agent desk without reloading the page; everything here also works without JavaScript.
// - A saved reply's "Use" button posts the same form the server would get and takes the filled
//   text from the answer (the server fills the placeholders), so text typed elsewhere stays.
// - "Select all on this page" ticks every request's box on the queue page.
(function () {
  "use strict";

  document.querySelectorAll("button[data-use-reply]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var form = button.form;
      var target = document.getElementById(button.dataset.useReply);
      if (!form || !target || button.dataset.plain) return;
      event.preventDefault();
      var data = new FormData(form);
      data.append(button.name, button.value);
      function plain() { // the server's answer is the page itself: show it as it is
        button.dataset.plain = "1";
        button.click();
      }
      fetch(button.formAction, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var filled = doc.getElementById(target.id);
          if (!filled) throw new Error("no " + target.id);
          target.value = filled.textContent;
          target.focus();
        })
        .catch(plain);
    });
  });

  var all = document.getElementById("select-all");
  if (all) {
    var boxes = document.querySelectorAll("input[name=selected][form=bulk-form]");
    all.hidden = false;
    all.parentElement.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        all.checked = Array.prototype.every.call(boxes, function (b) { return b.checked; });
      });
    });
  }
})();
