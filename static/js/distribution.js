// Sight: edytor rozkładu (ulepszenie fragmentu projects/form.html#distribution_editor).
// Bez JavaScriptu serwer dokłada puste wiersze; z nim wiersze dodaje się i usuwa tutaj,
// a każda kategoria pokazuje bieżącą sumę wag. Znaczniki wierszy pochodzą z <template> w szablonie.
(function () {
  "use strict";
  var TOLERANCE = 1e-6;

  function parseWeight(value) {
    var text = value.trim().replace(",", ".");
    if (text === "") return null;
    var number = Number(text);
    return Number.isFinite(number) ? number : NaN;
  }

  // Liczby w języku strony (po polsku przecinek dziesiętny: „0,8”), jak serwer (formats.number_format).
  function format(number) {
    var lang = document.documentElement.lang || undefined;
    return Number(number.toFixed(6)).toLocaleString(lang, { maximumFractionDigits: 6, useGrouping: false });
  }

  function nextIndex(elements, attribute) {
    var max = -1;
    elements.forEach(function (element) {
      var value = parseInt(element.getAttribute(attribute), 10);
      if (!Number.isNaN(value) && value > max) max = value;
    });
    return max + 1;
  }

  function fromTemplate(editor, kind, category, bucket) {
    var template = editor.querySelector('template[data-dist-template="' + kind + '"]');
    var html = template.innerHTML.replace(/__C__/g, String(category)).replace(/__B__/g, String(bucket));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function updateSum(category) {
    var total = 0;
    var invalid = false;
    var filled = 0;
    category.querySelectorAll("[data-dist-weight]").forEach(function (input) {
      var weight = parseWeight(input.value);
      if (weight === null) return;
      filled += 1;
      if (Number.isNaN(weight) || weight < 0) invalid = true;
      else total += weight;
    });
    var ok = filled > 0 && !invalid && Math.abs(total - 1) <= TOLERANCE;
    var box = category.querySelector("[data-dist-sum]");
    if (!box) return;
    box.querySelector("output").textContent = invalid ? "?" : format(total);
    box.classList.toggle("dist-sum--ok", ok);
    box.classList.toggle("dist-sum--bad", !ok);
  }

  function addBucket(editor, category) {
    var rows = category.querySelector("[data-dist-rows]");
    var index = nextIndex(rows.querySelectorAll("[data-dist-row]"), "data-index");
    var row = fromTemplate(editor, "bucket", category.getAttribute("data-index"), index);
    rows.appendChild(row);
    return row;
  }

  function addCategory(editor) {
    var list = editor.querySelector("[data-dist-categories]");
    var index = nextIndex(list.querySelectorAll("[data-dist-category]"), "data-index");
    var category = fromTemplate(editor, "category", index, 0);
    list.appendChild(category);
    addBucket(editor, category);
    updateSum(category);
    return category;
  }

  function normalise(category) {
    var inputs = [];
    var total = 0;
    category.querySelectorAll("[data-dist-weight]").forEach(function (input) {
      var weight = parseWeight(input.value);
      if (weight === null || Number.isNaN(weight) || weight < 0) return;
      inputs.push([input, weight]);
      total += weight;
    });
    if (!inputs.length || total <= 0) return;
    var largest = inputs.reduce(function (a, b) { return b[1] > a[1] ? b : a; });
    var rest = 0;
    inputs.forEach(function (pair) {
      if (pair === largest) return;
      var share = Number((pair[1] / total).toFixed(6));
      pair[0].value = format(share);
      rest += share;
    });
    largest[0].value = format(1 - rest);
    updateSum(category);
  }

  function init(root) {
    (root.matches && root.matches("[data-dist-editor]") ? [root] : Array.from(root.querySelectorAll("[data-dist-editor]"))).forEach(function (editor) {
      if (editor.hasAttribute("data-dist-ready")) return;
      editor.setAttribute("data-dist-ready", "");
      var categories = editor.querySelectorAll("[data-dist-categories] > [data-dist-category]");
      categories.forEach(function (category) {
        var rows = category.querySelectorAll("[data-dist-row]");
        var filled = category.querySelectorAll("[data-dist-row]:not([data-extra])");
        if (filled.length) rows.forEach(function (row) { if (row.hasAttribute("data-extra")) row.remove(); });
        if (category.hasAttribute("data-extra") && categories.length > 1) category.remove();
      });
      editor.querySelectorAll("[data-dist-category]").forEach(updateSum);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dist-action]");
    if (!button) return;
    var editor = button.closest("[data-dist-editor]");
    var category = button.closest("[data-dist-category]");
    var action = button.getAttribute("data-dist-action");
    event.preventDefault();
    if (action === "add-category") {
      addCategory(editor).querySelector("[data-dist-name]").focus();
    } else if (action === "remove-category") {
      category.remove();
    } else if (action === "add-bucket") {
      addBucket(editor, category).querySelector("input").focus();
    } else if (action === "remove-bucket") {
      button.closest("[data-dist-row]").remove();
      updateSum(category);
    } else if (action === "normalise") {
      normalise(category);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-dist-weight]")) updateSum(event.target.closest("[data-dist-category]"));
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
