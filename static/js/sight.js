// Sight: wspólne ulepszenia wszystkich stron (ładowane w <head>, bez zależności).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Przyciski kopiowania: <button data-copy="#id-elementu">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var original = button.textContent;
      button.textContent = button.getAttribute("data-copied") || original;
      setTimeout(function () { button.textContent = original; }, 2000);
    });
  });

  // Websocket zamknięty kodem 4401 (sesja wygasła): przeładowanie prowadzi przez login_required na logowanie z `next`
  // tej strony. Drugi taki kod tuż po przeładowaniu nie przeładowuje znowu (zabezpieczenie przed pętlą).
  document.addEventListener("htmx:wsClose", function (event) {
    var close = event.detail && event.detail.event;
    if (!close || close.code !== 4401) return;
    var key = "sight-session-expired-at";
    var last = Number(window.sessionStorage.getItem(key) || 0);
    if (Date.now() - last < 30000) return;
    window.sessionStorage.setItem(key, String(Date.now()));
    window.location.reload();
  });

  // Kliknięcie poza otwartym <details class="menu"> zamyka je.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
