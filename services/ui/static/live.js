// Keeps the dashboard's panels current without reloading the page: every few
// seconds it asks for the panels and swaps in only those whose content
// changed. A panel the user is working in (focus inside it) waits for the
// next round, and nothing is swapped once a form is being sent, so no click
// or typed value is lost.
(function () {
  "use strict";

  var root = document.getElementById("panels");

  if (!root || !window.fetch) {
    return;
  }

  var url = root.getAttribute("data-live");
  var every = Math.max(1, Number(root.getAttribute("data-every")) || 3) * 1000;
  var leaving = false;

  document.addEventListener("submit", function () {
    leaving = true;
  });

  function busy(slot) {
    return slot.contains(document.activeElement) && document.activeElement !== document.body;
  }

  function apply(panels) {
    Object.keys(panels).forEach(function (id) {
      var slot = document.getElementById("panel-" + id);
      var panel = panels[id];

      if (!slot || slot.getAttribute("data-digest") === panel.digest || busy(slot)) {
        return;
      }

      slot.innerHTML = panel.html;
      slot.hidden = panel.html === "";
      slot.setAttribute("data-digest", panel.digest);
    });
  }

  function poll() {
    if (leaving || document.hidden) {
      return schedule();
    }

    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        // The session ended: the page itself goes to the login form.
        if (response.status === 401) {
          leaving = true;
          window.location.reload();
          return null;
        }

        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.panels && !leaving) {
          apply(data.panels);
        }
      })
      .catch(function () {})
      .then(schedule);
  }

  function schedule() {
    window.setTimeout(poll, every);
  }

  schedule();
})();
