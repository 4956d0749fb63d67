// Ask before an action that cannot be undone. A button or form marked data-confirm="what will happen"
// shows that sentence in a dialog; on OK the form is sent with confirmed=1, so the server skips its own
// confirmation page (which is what a browser without JavaScript gets instead). It listens in the
// capture phase, so it asks before any handler of the form itself runs.
(function () {
  "use strict";
  function mark(form, on) {
    var field = form.querySelector("input[name=confirmed]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "confirmed";
      form.appendChild(field);
    }
    field.value = on ? "1" : "";
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter || null;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!message) {
      mark(form, false);
      return;
    }
    if (window.confirm(message)) {
      mark(form, true);
    } else {
      event.preventDefault();
      event.stopPropagation();  // the form's own handlers (e.g. the inbox's send-once) never see it
    }
  }, true);
}());
