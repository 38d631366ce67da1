// Przeciągnij i upuść plik na formularz bazy wiedzy: plik trafia do zwykłego pola <input type="file"> i formularz
// wysyła się sam. Bez JavaScriptu ten sam formularz działa przyciskiem.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-drop-zone]");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const toggle = (on) => form.classList.toggle("drop-active", on);
  ["dragenter", "dragover"].forEach((name) =>
    form.addEventListener(name, (event) => { event.preventDefault(); toggle(true); }));
  ["dragleave", "drop"].forEach((name) =>
    form.addEventListener(name, (event) => { event.preventDefault(); toggle(false); }));
  form.addEventListener("drop", (event) => {
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    form.requestSubmit();
  });
});
