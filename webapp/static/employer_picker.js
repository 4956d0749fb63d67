// The person registration form's employer picker: choosing a region or typing part of a name
// refreshes the employer list from the server as you type. Without JavaScript the Find button
// sends the same search and the page comes back with the list.
(function () {
  "use strict";
  var search = document.getElementById("employer-search");
  var select = document.getElementById("employer_id");
  var words = document.getElementById("employer-words");
  if (!search || !select || !words || !window.fetch) { return; }
  var region = document.getElementById("employer-region");
  var query = document.getElementById("employer-q");
  var status = document.getElementById("employer-status");
  var placeholder = select.options[0].cloneNode(true);
  var timer = null;
  var asked = 0;

  function say(key, count) {
    status.textContent = words.dataset[key].replace("{count}", String(count));
  }

  function fill(found) {
    var chosen = select.value;
    select.replaceChildren(placeholder.cloneNode(true));
    found.employers.forEach(function (employer) {
      var option = document.createElement("option");
      option.value = String(employer.id);
      option.textContent = employer.name;
      option.selected = option.value === chosen;
      select.appendChild(option);
    });
    if (found.employers.length === 0) { say("none", 0); }
    else if (found.more) { say("more", found.employers.length); }
    else { say("some", found.employers.length); }
  }

  function refresh() {
    var number = ++asked;
    var params = new URLSearchParams({ region: region.value, q: query.value.trim() });
    fetch(search.dataset.endpoint + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (found) { if (number === asked) { fill(found); } })
      .catch(function () { if (number === asked) { say("failed", 0); } });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  }

  region.addEventListener("change", refresh);
  query.addEventListener("input", later);
  search.addEventListener("submit", function (event) {
    event.preventDefault();
    refresh();
  });
}());
