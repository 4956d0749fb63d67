// The inbox, a little quicker with JavaScript; every page works without it.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root) { return; }
  var csrf = root.getAttribute("data-csrf");

  function post(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    });
  }

  function showCounts(counts, cap) {
    Object.keys(counts).forEach(function (name) {
      var badge = root.querySelector('[data-count="' + name + '"]');
      if (badge) { badge.textContent = counts[name] > cap ? cap + "+" : String(counts[name]); }
    });
  }

  function refreshCounts() {
    fetch(root.getAttribute("data-counts-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) { showCounts(body.counts, body.cap); } })
      .catch(function () { /* the badges keep the page's numbers */ });
  }

  // select or clear every task of the page at once
  var all = root.querySelector(".select-all");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      root.querySelectorAll('input[name="task_id"]').forEach(function (box) { box.checked = all.checked; });
    });
  }

  // a double click sends a bulk form once (the engine would refuse the second anyway)
  var bulk = document.getElementById("bulk-form");
  if (bulk) {
    bulk.addEventListener("submit", function (event) {
      if (bulk.getAttribute("data-sent")) { event.preventDefault(); return; }
      bulk.setAttribute("data-sent", "1");
      var chosen = event.submitter;
      if (chosen && chosen.name) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = chosen.name; hidden.value = chosen.value;
        bulk.appendChild(hidden);
      }
      bulk.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    });
  }

  // mark a copy read in place, through the JSON API with the CSRF header
  root.querySelectorAll("form.mark-read").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      post(form.getAttribute("data-api")).then(function (response) {
        if (!response.ok) { form.submit(); return; }
        var row = form.closest("tr");
        if (row) { row.classList.remove("unread"); }
        form.remove();
        refreshCounts();
      }).catch(function () { form.submit(); });
    });
  });

  window.setInterval(refreshCounts, 60000);
}());
