// A choice marked data-submit-on-change sends its form at once; without JavaScript a button does.
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
}());
