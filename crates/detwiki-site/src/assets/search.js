// The search page (`search.html`): runs the query of `?q=` over the Pagefind index in
// `pagefind/`, narrowed by the facet parameters (`?q=msiexec&language=KQL`), and lists the
// results. A file loaded by the page, never inline, so the site's Content-Security-Policy can
// forbid inline scripts; Pagefind's own module is loaded with a dynamic import, and its
// WebAssembly is why the policy allows 'wasm-unsafe-eval'.
//
// Everything taken from the index is put into the page as text (textContent), never as HTML:
// titles, sources and snippets come from rule files.
"use strict";
(function () {
  var PAGE_SIZE = 20;
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  var box = document.getElementById("site-search");
  var hiddenQuery = document.getElementById("search-facets-query");
  var count = document.getElementById("search-count");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var facetForm = document.getElementById("search-facets");
  var checkboxes = Array.prototype.slice.call(document.querySelectorAll("input.facet"));
  if (!count || !list) {
    return;
  }
  if (box) {
    box.value = query;
  }
  if (hiddenQuery) {
    hiddenQuery.value = query;
  }
  checkboxes.forEach(function (checkbox) {
    checkbox.checked = params.getAll(checkbox.dataset.facet).indexOf(checkbox.value) >= 0;
  });

  // Browsers do not let a page opened from disk fetch the index: say so, keep the page readable.
  if (window.location.protocol === "file:") {
    document.getElementById("search-offline").hidden = false;
    count.textContent = "Search is not available on a page opened from disk.";
    return;
  }

  // Facets: values of one facet are alternatives (any), facets narrow each other (all).
  function selectedFilters() {
    var filters = {};
    checkboxes.forEach(function (checkbox) {
      if (checkbox.checked) {
        var facet = checkbox.dataset.facet;
        filters[facet] = filters[facet] || { any: [] };
        filters[facet].any.push(checkbox.value);
      }
    });
    return filters;
  }

  function updateAddress() {
    var next = new URLSearchParams();
    if (query) {
      next.set("q", query);
    }
    checkboxes.forEach(function (checkbox) {
      if (checkbox.checked) {
        next.append(checkbox.dataset.facet, checkbox.value);
      }
    });
    var search = next.toString();
    window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }

  // Pagefind wraps the matched words of an excerpt in <mark>; everything else is text.
  function snippet(excerpt) {
    var paragraph = document.createElement("p");
    paragraph.className = "result-snippet";
    excerpt.split("<mark>").forEach(function (piece, position) {
      var end = piece.indexOf("</mark>");
      if (position > 0 && end >= 0) {
        var mark = document.createElement("mark");
        mark.textContent = piece.slice(0, end);
        paragraph.appendChild(mark);
        piece = piece.slice(end + "</mark>".length);
      }
      paragraph.appendChild(document.createTextNode(piece));
    });
    return paragraph;
  }

  function label(className, text) {
    var span = document.createElement("span");
    span.className = "badge " + className;
    span.textContent = text;
    return span;
  }

  function resultItem(data) {
    var meta = data.meta || {};
    var item = document.createElement("li");
    item.className = "search-result";
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = meta.title || data.url;
    item.appendChild(link);
    item.appendChild(document.createTextNode(" "));
    var kind = meta.kind || "page";
    item.appendChild(label("result-language", meta.language || kind));
    item.appendChild(label("result-source", meta.source || kind));
    item.appendChild(snippet(data.excerpt || ""));
    return item;
  }

  var results = [];
  var shown = 0;

  function showMore() {
    var page = results.slice(shown, shown + PAGE_SIZE);
    shown += page.length;
    more.hidden = shown >= results.length;
    return Promise.all(page.map(function (result) { return result.data(); })).then(function (pages) {
      pages.forEach(function (data) { list.appendChild(resultItem(data)); });
    });
  }

  var pagefind = null;
  var generation = 0;

  function run() {
    var filters = selectedFilters();
    if (!query && Object.keys(filters).length === 0) {
      return;
    }
    var current = ++generation;
    count.textContent = "Searching...";
    // A search term of null lists every page the filters keep.
    pagefind.search(query || null, { filters: filters }).then(function (search) {
      if (current !== generation) {
        return;
      }
      results = search.results;
      shown = 0;
      list.textContent = "";
      var what = query ? " for \"" + query + "\"" : "";
      count.textContent = results.length + (results.length === 1 ? " result" : " results") + what + ".";
      return showMore();
    }).catch(function (error) {
      count.textContent = "Search failed: " + error;
    });
  }

  if (more) {
    more.addEventListener("click", function () { showMore(); });
  }
  if (facetForm) {
    facetForm.addEventListener("submit", function (event) {
      event.preventDefault();
      updateAddress();
      run();
    });
  }
  checkboxes.forEach(function (checkbox) {
    checkbox.addEventListener("change", function () {
      updateAddress();
      run();
    });
  });

  var bundle = new URL("pagefind/pagefind.js", document.baseURI).href;
  import(bundle).then(function (module) {
    pagefind = module;
    return pagefind.options({ excerptLength: 24 });
  }).then(function () {
    run();
  }).catch(function (error) {
    count.textContent = "The search index could not be loaded: " + error;
  });
})();
