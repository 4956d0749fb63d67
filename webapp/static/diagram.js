/* The task page's process diagram: bpmn-js draws it, done steps outlined green, the current step amber.
   Without JavaScript (or without bpmn-js) the page works and simply shows no diagram. */
(function () {
  "use strict";

  function mark(canvas, registry, ids, marker) {
    ids.forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      }
    });
  }

  async function draw(container) {
    const response = await fetch(container.dataset.src, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error("diagram.json answered " + response.status);
    }
    const progress = await response.json();
    const viewer = new window.BpmnJS({ container: container });
    await viewer.importXML(progress.xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    mark(canvas, registry, progress.completed, "ce-completed");
    mark(canvas, registry, progress.current, "ce-current");
    container.dataset.rendered = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    const container = document.getElementById("diagram");
    if (!container || !window.BpmnJS) {
      return;
    }
    draw(container).catch(function (error) {
      container.dataset.rendered = "failed";
      console.error("the process diagram could not be drawn:", error);
    });
  });
})();
