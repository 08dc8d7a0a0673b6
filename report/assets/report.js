// Filtering and sorting of the conversion table. The page is complete
// without this script; it only hides and reorders rows already there.
(function () {
  "use strict";
  var dataEl = document.getElementById("report-data");
  // The embedded data, for whoever opens the console or scripts the page.
  window.mkeMigrateReport = dataEl ? JSON.parse(dataEl.textContent) : null;
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  var table = document.getElementById("conversion-table");
  if (!table || !table.tBodies.length) { return; }
  document.querySelectorAll(".js-only").forEach(function (e) { e.hidden = false; });
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#status-filter input[type=checkbox]"));
  var text = document.getElementById("key-filter");
  var shown = document.getElementById("shown-count");
  var statusRank = ["blocking", "unconvertible", "unknown", "dropped", "converted", "default"];

  function apply() {
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var q = text ? text.value.trim().toLowerCase() : "";
    var n = 0;
    rows.forEach(function (r) {
      var ok = on[r.getAttribute("data-status")] !== false &&
        (q === "" || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) { n++; }
    });
    if (shown) { shown.textContent = n + " of " + rows.length + " keys shown"; }
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  if (text) { text.addEventListener("input", apply); }
  var attention = document.getElementById("only-attention");
  if (attention) {
    attention.addEventListener("click", function () {
      boxes.forEach(function (b) { b.checked = b.value !== "converted" && b.value !== "default"; });
      apply();
    });
  }
  var all = document.getElementById("show-all");
  if (all) {
    all.addEventListener("click", function () {
      boxes.forEach(function (b) { b.checked = true; });
      if (text) { text.value = ""; }
      apply();
    });
  }

  function cellValue(row, i, kind) {
    var c = row.cells[i];
    if (!c) { return ""; }
    var v = c.getAttribute("data-value");
    if (v === null) { v = c.textContent.trim(); }
    if (kind === "num") { return v === "" ? -1 : parseInt(v, 10); }
    if (i === 0) { var r = statusRank.indexOf(v); return r < 0 ? statusRank.length : r; }
    return v.toLowerCase();
  }
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, i) {
    var kind = th.getAttribute("data-sort");
    if (!kind) { return; }
    th.tabIndex = 0;
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var sorted = rows.slice().sort(function (a, b) {
        var x = cellValue(a, i, kind), y = cellValue(b, i, kind);
        if (x < y) { return asc ? -1 : 1; }
        if (x > y) { return asc ? 1 : -1; }
        return rows.indexOf(a) - rows.indexOf(b);
      });
      sorted.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
  apply();
})();
