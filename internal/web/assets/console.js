// gomon console: keeps relative times current and, on pages marked
// data-live, reloads the main part when /api/status shows a change.
// The pages work without it (the overview then refreshes every 30 s).
(function () {
  "use strict";
  function human(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor(s % 3600 / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-ago]").forEach(function (t) {
      t.textContent = human((now - Date.parse(t.getAttribute("datetime"))) / 1000) + " ago";
    });
    document.querySelectorAll("[data-since]").forEach(function (t) {
      t.textContent = human((now - Date.parse(t.getAttribute("data-since"))) / 1000);
    });
  }
  setInterval(tick, 1000);
  if (!document.body.hasAttribute("data-live")) return;
  var live = document.getElementById("live"), last = null;
  live.hidden = false;
  // busy: the operator is typing in a form, which a reload would lose.
  function busy() {
    var a = document.activeElement;
    return a && a.form && a.form.method === "get" && a.value !== "";
  }
  function reload() {
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      if (busy()) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      document.querySelector("main").replaceWith(doc.querySelector("main"));
      document.title = doc.title;
      tick();
    });
  }
  function poll() {
    fetch("api/status", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      document.body.classList.remove("stale");
      var key = JSON.stringify([d.stopped, d.services.map(function (s) {
        return [s.group, s.service, s.state, s.status, s.summary, s.last_check, s.ack_comment, s.disable_reason,
          s.disabled_until, s.ack_until, s.flapping, (s.failing_hosts || []).map(function (h) { return h.host; })];
      })]);
      if (last !== null && key !== last) reload();
      last = key;
    }).catch(function () { document.body.classList.add("stale"); });
  }
  poll();
  setInterval(poll, 5000);
})();
