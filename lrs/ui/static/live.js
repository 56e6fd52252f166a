// Live updates of the pages: the rows of a class overview and the entries
// of a student's stream follow the class's new statements without a
// reload. The server sends every word in the page's language (GET
// /ui/classes/{class}/live, Server-Sent Events); this file only puts it
// in place and has the live region announce it.
(function () {
  "use strict";

  var region = document.getElementById("live-status");

  function announce(text) {
    if (!region || !text) {
      return;
    }
    // A change of the region's text is what a screen reader announces.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function listen(url, name, handle) {
    if (!window.EventSource) {
      return;
    }
    var source = new EventSource(url);
    source.addEventListener(name, function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      handle(data);
    });
    // The person fell behind or the class changed: the page is stale.
    source.addEventListener("reset", function (ev) {
      source.close();
      try { announce(JSON.parse(ev.data).announce); } catch (e) { /* nothing to say */ }
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  function timeOrText(td, text, iso) {
    td.textContent = "";
    if (!iso) {
      td.textContent = text;
      return;
    }
    var t = el("time", text);
    t.dateTime = iso;
    td.appendChild(t);
  }

  function flash(node) {
    node.classList.add("updated");
    window.setTimeout(function () { node.classList.remove("updated"); }, 3000);
  }

  var table = document.getElementById("overview");
  if (table && table.dataset.live) {
    listen(table.dataset.live, "row", function (r) {
      var rows = table.tBodies[0].rows, tr = null, i;
      for (i = 0; i < rows.length; i++) {
        if (rows[i].dataset.student === r.student) { tr = rows[i]; }
      }
      if (!tr) {
        return;
      }
      var cell = function (f) { return tr.querySelector('[data-field="' + f + '"]'); };
      var status = cell("status");
      status.className = "status status-" + r.status;
      status.textContent = "";
      var icon = el("span", r.icon);
      icon.setAttribute("aria-hidden", "true");
      status.append(icon, " ", el("span", r.statusLabel));
      timeOrText(cell("last"), r.last, r.lastISO);
      ["completed", "passed", "failed"].forEach(function (f) { cell(f).textContent = String(r[f]); });
      cell("mean").textContent = r.mean;
      if (r.total) {
        var progress = cell("progress"), bar = el("progress");
        bar.max = r.total;
        bar.value = r.done;
        bar.setAttribute("aria-hidden", "true");
        progress.textContent = "";
        progress.append(bar, " ", el("span", r.progress, "small"));
      }
      flash(tr);
      announce(r.announce);
    });
  }

  var stream = document.getElementById("stream");
  if (stream && stream.dataset.live) {
    listen(stream.dataset.live, "entry", function (e) {
      if (stream.querySelector('[data-position="' + e.position + '"]')) {
        return;
      }
      var empty = document.getElementById("stream-empty");
      if (empty) { empty.remove(); }
      var day = stream.querySelector("section.day"), list;
      if (day && day.dataset.day === e.day) {
        list = day.querySelector("ol");
      } else {
        var section = el("section", undefined, "day"), h = el("h2", e.dayLabel);
        section.dataset.day = e.day;
        h.id = "day-" + e.day;
        section.setAttribute("aria-labelledby", h.id);
        list = el("ol", undefined, "entries");
        section.append(h, list);
        stream.insertBefore(section, day);
      }
      var li = el("li"), t = el("time", e.time), sentence = el("span", undefined, "sentence");
      li.dataset.position = String(e.position);
      t.dateTime = e.iso;
      // The sentence is HTML the server escaped (ui.SentenceHTML).
      sentence.innerHTML = e.html;
      li.append(t, " ", sentence);
      list.insertBefore(li, list.firstChild);
      flash(li);
      announce(e.announce);
    });
  }
}());
