// Optional enhancement: a click on a column header of a `table.sortable` sorts its rows. The
// table reads the same without it. Loaded as a file (never inline) so the site's
// Content-Security-Policy can forbid inline scripts.
"use strict";
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.classList.add("sortable-header");
  th.addEventListener("click", function () {
    var column = th.cellIndex;
    var body = th.closest("table").tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var descending = th.dataset.order !== "desc";
    th.dataset.order = descending ? "desc" : "asc";
    var key = function (row) {
      var cell = row.cells[column];
      return cell.dataset.sort !== undefined ? Number(cell.dataset.sort) : cell.textContent;
    };
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
