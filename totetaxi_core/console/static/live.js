/* ToteTaxi live pages: a page that works without script (server-rendered) is kept current.

   A page opts in with attributes on one element:
     data-live="subscribe=staff"            what to subscribe to (the query of /api/v1/live)
     data-live-types="booking. tracking."   which event types concern it (prefixes; all if empty)
     data-live-since="1764000000000-0"      the live position when the page was rendered
   and marks the parts to keep current with data-live-region and an id. When an event of its
   types arrives (or a resync), the page is fetched again and each region replaced by the same
   region of the new page, unless someone is typing in it (then it says "updated" and waits).

   WebSocket first; Server-Sent Events when WebSocket cannot connect. Heartbeats tell a silent
   connection from a dead one; a reconnection sends the last event id, so nothing is missed. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root || !window.fetch || !window.DOMParser) {
    return;
  }
  var PATH = "/api/v1/live";
  var TYPES = ["booking.created", "booking.changed", "booking.status", "tracking.update",
               "payment.result", "document.uploaded", "document.reviewed",
               "dashboard.changed", "actions.pending"];
  var query = root.getAttribute("data-live") || "";
  var types = (root.getAttribute("data-live-types") || "").split(" ").filter(Boolean);
  var last = root.getAttribute("data-live-since") || "";
  var socketFailures = 0;
  var opened = false;
  var retry = 500;
  var watchdog = null;
  var pending = null;
  var fetching = false;
  var again = false;

  function concerns(type) {
    if (type === "resync") {
      return true;
    }
    return !types.length || types.some(function (prefix) { return type.indexOf(prefix) === 0; });
  }

  function mark(state) {
    root.setAttribute("data-live-state", state);
  }

  function busy(region) {
    return region.contains(document.activeElement) && document.activeElement !== document.body ||
      region.hasAttribute("data-live-dirty");
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      var next = region.id && fresh.getElementById(region.id);
      if (!next) {
        return;
      }
      if (busy(region)) {
        region.setAttribute("data-live-stale", "true");
        return;
      }
      region.replaceWith(document.importNode(next, true));
    });
    document.dispatchEvent(new CustomEvent("totetaxi:live-updated"));
  }

  function refresh() {
    // Several events in a burst make one fetch; one that comes while fetching, one more.
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* the next event or reconnection tries again */ })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          later();
        }
      });
  }

  function later() {
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  }

  function received(type, id) {
    if (id) {
      last = id;
    }
    if (type !== "hello" && type !== "heartbeat" && concerns(type)) {
      later();
    }
  }

  function url(base) {
    var parts = [query];
    if (last) {
      parts.push("last_event_id=" + encodeURIComponent(last));
    }
    return base + "?" + parts.filter(Boolean).join("&");
  }

  function reconnect() {
    clearTimeout(watchdog);
    mark("reconnecting");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  }

  function guard(seconds, connection) {
    // Nothing at all (not even a heartbeat) for two and a half beats: the line is dead.
    clearTimeout(watchdog);
    watchdog = setTimeout(function () { connection.close(); }, seconds * 2500);
  }

  function viaSocket() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(url(scheme + window.location.host + PATH));
    var beat = 30;
    socket.onopen = function () {
      opened = true;
      socketFailures = 0;
      retry = 500;
      mark("live");
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.heartbeat_seconds) {
        beat = event.heartbeat_seconds;
      }
      guard(beat, socket);
      received(event.type, event.id);
    };
    socket.onclose = function () {
      if (!opened) {
        socketFailures += 1;
      }
      opened = false;
      reconnect();
    };
  }

  function viaEvents() {
    var source = new EventSource(url(PATH + "/events"), {withCredentials: true});
    source.onopen = function () { retry = 500; mark("live"); };
    TYPES.concat(["resync"]).forEach(function (type) {
      source.addEventListener(type, function (message) { received(type, message.lastEventId); });
    });
    source.onerror = function () {
      // EventSource reconnects by itself with Last-Event-ID; a refusal closes it for good.
      if (source.readyState === EventSource.CLOSED) {
        reconnect();
      } else {
        mark("reconnecting");
      }
    };
  }

  function connect() {
    if (window.WebSocket && socketFailures < 2) {
      viaSocket();
    } else if (window.EventSource) {
      viaEvents();
    }
  }

  document.addEventListener("focusout", function (event) {
    // A region left alone again catches up with what changed while it was in use.
    var region = event.target.closest && event.target.closest("[data-live-stale]");
    if (region && !region.hasAttribute("data-live-dirty")) {
      region.removeAttribute("data-live-stale");
      later();
    }
  });
  document.addEventListener("input", function (event) {
    var region = event.target.closest && event.target.closest("[data-live-region]");
    if (region) {
      region.setAttribute("data-live-dirty", "true");
    }
  });
  mark("connecting");
  connect();
}());
