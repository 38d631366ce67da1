// Strona grupy fokusowej: strumień na żywo bez powtórek, z postępem i przewijaniem do najnowszej wypowiedzi.
(function () {
  "use strict";
  var EVENT_ID = /\bid="(event-\d+)"/;
  // Czy czytelnik jest przy końcu strumienia; przewinięcie w górę (czytanie starszych) wyłącza podążanie za nowymi.
  var following = true;

  function stream() {
    return document.querySelector("[data-fg-stream]");
  }

  // Po ponownym połączeniu konsument wysyła zdarzenia od pierwotnego `after`: wypowiedź, która już jest na stronie, pomijamy.
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var match = EVENT_ID.exec(event.detail.message || "");
    if (match && document.getElementById(match[1])) event.preventDefault();
  });

  // Postęp: wypowiedzi (albo odpowiedzi) w strumieniu wobec planu przebiegu.
  function updateProgress(box) {
    var progress = document.querySelector("[data-fg-progress]");
    if (!progress) return;
    var total = parseInt(progress.getAttribute("data-total"), 10) || 0;
    var done = box.querySelectorAll(".fg-event--turn, .fg-event--answer").length;
    var percent = total ? Math.min(100, Math.floor((100 * done) / total)) : 0;
    progress.querySelector("[data-fg-done]").textContent = done;
    progress.querySelector("[data-fg-percent]").textContent = percent + "%";
    progress.querySelector("progress").value = percent;
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    var box = stream();
    if (!box) return;
    updateProgress(box);
    if (following) box.scrollTop = box.scrollHeight;
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = stream();
    if (!box) return;
    box.addEventListener("scroll", function () {
      following = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    }, { passive: true });
    if (!location.hash) box.scrollTop = box.scrollHeight;
  });
})();
