// Graf pojęć grupy: rysuje węzły i krawędzie z danych JSON strony (cytoscape z static/vendor), po kliknięciu węzła
// albo krawędzi wypisuje cytaty z linkami do transkrypcji. Filtry przeładowują fragment #graph-view (htmx),
// a wtedy graf rysujemy od nowa. Bez eval i bez skryptów w treści strony (CSP script-src 'self').
(function () {
  "use strict";

  var COLORS = { support: "#2f855a", oppose: "#c53030", mixed: "#8a94a6" };
  var RELATIONS = { agree: "#2b6cb0", disagree: "#dd6b20", addressed: "#4a5568", builds_on: "#4a5568", member: "#cbd5e0" };

  function style() {
    return [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "font-size": 11,
          "text-wrap": "wrap",
          "text-max-width": 110,
          color: "#1a202c",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.8,
          "text-background-padding": 2,
        },
      },
      { selector: "node[kind = 'persona']", style: { shape: "ellipse", "background-color": "#4c51bf", width: 28, height: 28 } },
      {
        selector: "node[kind = 'concept']",
        style: { shape: "round-rectangle", "background-color": "data(color)", width: "data(size)", height: "data(size)" },
      },
      { selector: "node[kind = 'segment']", style: { shape: "diamond", "background-color": "#d69e2e", width: 34, height: 34 } },
      {
        selector: "edge",
        style: {
          width: "data(width)",
          "line-color": "data(color)",
          "target-arrow-color": "data(color)",
          "target-arrow-shape": "triangle",
          "curve-style": "bezier",
          opacity: 0.8,
        },
      },
      { selector: "edge[type = 'addressed'], edge[type = 'builds_on']", style: { "line-style": "dotted" } },
      { selector: "edge[type = 'member']", style: { "target-arrow-shape": "none", "line-style": "dashed" } },
      { selector: ":selected", style: { "border-width": 3, "border-color": "#1a202c", "line-color": "#1a202c", opacity: 1 } },
    ];
  }

  function elements(data) {
    var nodes = data.nodes.map(function (n) {
      var size = n.kind === "concept" ? Math.min(70, 22 + 4 * (n.mentions || 0)) : 28;
      return { group: "nodes", data: Object.assign({}, n, { size: size, color: COLORS[n.stance_class] || COLORS.mixed }) };
    });
    var edges = data.edges.map(function (e) {
      var color = e.type === "stance" ? COLORS[e.stance_class] : RELATIONS[e.type];
      return { group: "edges", data: Object.assign({}, e, { color: color, width: Math.min(8, 1 + e.count) }) };
    });
    return nodes.concat(edges);
  }

  // Cytaty elementu: krawędź ma swoje dowody, węzeł — dowody wszystkich swoich krawędzi (bez powtórzeń).
  function evidenceOf(element) {
    var edges = element.isEdge() ? [element] : element.connectedEdges().toArray();
    var seen = {};
    var items = [];
    edges.forEach(function (edge) {
      (edge.data("evidence") || []).forEach(function (item) {
        var key = item.turn_id + "\u0000" + item.quote;
        if (!seen[key]) {
          seen[key] = true;
          items.push(item);
        }
      });
    });
    return items.sort(function (a, b) { return a.seq - b.seq; });
  }

  function describe(element) {
    if (element.isNode()) return element.data("label") + " (" + element.data("kind_label") + ")";
    var label = element.source().data("label") + " → " + element.data("type_label") + " → " + element.target().data("label");
    return element.data("stance_label") ? label + " (" + element.data("stance_label") + ")" : label;
  }

  function showEvidence(panel, element) {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    var heading = document.createElement("h2");
    heading.textContent = panel.getAttribute("data-title") + ": " + describe(element);
    panel.appendChild(heading);
    var items = evidenceOf(element);
    if (!items.length) {
      var empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = panel.getAttribute("data-empty");
      panel.appendChild(empty);
      return;
    }
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var quote = document.createElement("q");
      quote.textContent = item.quote;
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.name + " #" + item.seq;
      li.appendChild(quote);
      li.appendChild(document.createTextNode(" — "));
      li.appendChild(link);
      list.appendChild(li);
    });
    panel.appendChild(list);
    var edges = element.isEdge() ? [element] : element.connectedEdges().toArray();
    var partial = edges.some(function (edge) { return edge.data("count") > (edge.data("evidence") || []).length; });
    if (partial) {
      var more = document.createElement("p");
      more.className = "muted";
      more.textContent = panel.getAttribute("data-more");
      panel.appendChild(more);
    }
  }

  var current = null;

  function render() {
    var source = document.getElementById("graph-data");
    var container = document.querySelector("[data-concept-graph]");
    if (current) {
      current.destroy();
      current = null;
    }
    if (!source || !container || typeof window.cytoscape !== "function") return;
    var data = JSON.parse(source.textContent);
    var panel = document.querySelector("[data-graph-evidence]");
    current = window.cytoscape({
      container: container,
      elements: elements(data),
      style: style(),
      layout: { name: "cose", animate: false, nodeRepulsion: function () { return 9000; } },
      maxZoom: 1.6, // mały graf po dopasowaniu nie rośnie ponad czytelny rozmiar
    });
    current.on("tap", "node, edge", function (event) {
      if (panel) showEvidence(panel, event.target);
    });
  }

  document.addEventListener("DOMContentLoaded", render);
  // Po podmianie fragmentu przez filtry (htmx) dane są nowe; na tej stronie htmx podmienia tylko ten fragment.
  document.addEventListener("htmx:afterSettle", render);
  document.addEventListener("htmx:historyRestore", render); // „wstecz” po zmianie filtrów przywraca stronę bez ładowania
})();
