// Sight: persony. Sekcja śledząca zadanie przez websocket (atrybut data-refresh-url) pobiera się od nowa,
// gdy pasek postępu zadania pokaże stan końcowy; na liście pole „zaznacz wszystkie” zaznacza wiersze strony.
(function () {
  "use strict";
  var FINAL = ".job--succeeded, .job--failed, .job--cancelled";

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var box = event.target.closest("[data-refresh-url]");
    if (!box || box.hasAttribute("data-refreshing") || !box.querySelector(FINAL) || !window.htmx) return;
    box.setAttribute("data-refreshing", "");
    window.htmx.ajax("GET", box.getAttribute("data-refresh-url"), { target: box, swap: "outerHTML" });
  });

  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    all.closest("form").querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
