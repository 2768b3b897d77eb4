"use strict";
// layerscan HTML report. The report is embedded as layerscan/v1 JSON; an
// image's timeline is built on first open. Every string from the image goes
// through textContent or an attribute setter, never through innerHTML.
(function () {
  var t0 = performance.now();
  var R = JSON.parse(document.getElementById("layerscan-report").textContent);
  var META = JSON.parse(document.getElementById("layerscan-meta").textContent);
  var SEVS = ["critical", "high", "medium", "low", "info"];
  var MAX_LANES = 16, MAX_CHIPS = 10, PRINT_MAX = 300;
  var built = {};
  var state = { sev: {}, status: {}, cause: "", origin: "", repo: "", q: "", newOnly: false, layer: "" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function short(d) {
    if (!d) return "-";
    var i = d.indexOf(":");
    return i >= 0 && d.length - i - 1 > 12 ? d.slice(i + 1, i + 13) : d;
  }
  function bytes(n) {
    if (n < 1000) return n + " B";
    var u = "kMGTPE", e = -1;
    do { n /= 1000; e++; } while (n >= 1000 && e < 5);
    return n.toFixed(1) + " " + u[e] + "B";
  }
  function sevClass(s) { return "sev-" + (SEVS.indexOf(s) >= 0 ? s : "high"); }
  function where(f) {
    if (f.source === "config") return "config " + (f.field || "");
    if (f.source === "history") return "history[" + (f.history_index == null ? "?" : f.history_index) + "]";
    var p = f.path || "";
    (f.archive_path || []).forEach(function (m) { p += "!" + m; });
    if (f.hardlink_to) p += " (hardlink to " + f.hardlink_to + ")";
    return p;
  }
  function hidden(f) { return f.status === "deleted" || f.status === "overwritten"; }
  // Whose content a finding is in: "image" (the builder's) or "package".
  function originType(f) { return f.origin && f.origin.type === "package" ? "package" : "image"; }
  function originText(f) {
    var o = f.origin;
    if (!o) return "";
    var pkg = o.name ? o.name + (o.version ? " " + o.version : "") : "";
    if (o.type === "package") return "vendor content: " + pkg + " (" + o.manager + ", verified by " + o.verified_by + ")" + (f.vendor ? "; not counted" : "");
    if (o.modified) return "the image's: a modified file of " + pkg + " (" + o.manager + ")";
    return "the image's";
  }

  // Filters.
  function anyFindingFilter() {
    if (state.cause || state.origin || state.q || state.newOnly) return true;
    for (var s in state.sev) if (!state.sev[s]) return true;
    for (var st in state.status) if (!state.status[st]) return true;
    return false;
  }
  function sevOn(s) { return state.sev[SEVS.indexOf(s) >= 0 ? s : "high"] !== false; }
  function matches(im, f) {
    if (!sevOn(f.severity)) return false;
    if (state.status[f.status] === false) return false;
    if (state.cause && f.cause !== state.cause) return false;
    if (state.origin && originType(f) !== state.origin) return false;
    if (state.newOnly && !f.new) return false;
    if (state.q) {
      var hay = f._hay;
      if (hay === undefined) {
        hay = f._hay = [where(f), f.rule, f.layer && f.layer.instruction, f.removed_by && f.removed_by.instruction,
          f.cause, f.fingerprint, f.note].join("\n").toLowerCase();
      }
      if (hay.indexOf(state.q) < 0 && im._ref.indexOf(state.q) < 0) return false;
    }
    return true;
  }
  function imageHasLayer(im, d) {
    for (var i = 0; i < (im.layers || []).length; i++) if (im.layers[i].digest === d) return true;
    return false;
  }

  var sections = document.querySelectorAll("details.image");
  var shownOut = document.getElementById("shown");

  function applyFilters() {
    var ff = anyFindingFilter(), images = 0, findings = 0, total = 0;
    for (var i = 0; i < R.images.length; i++) {
      var im = R.images[i], sec = sections[i];
      if (im._ref === undefined) im._ref = (im.ref || "").toLowerCase();
      var fs = im.findings || [], n = 0;
      total += fs.length;
      var show = (!state.repo || META.repos[i] === state.repo) && (!state.layer || imageHasLayer(im, state.layer));
      if (show) for (var k = 0; k < fs.length; k++) if (matches(im, fs[k])) n++;
      if (show && ff && n === 0 && !(state.q && im._ref.indexOf(state.q) >= 0 && fs.length === 0)) show = false;
      if (sec.hidden === show) sec.hidden = !show;
      var badge = sec.querySelector(".shown-n");
      badge.textContent = show && n !== fs.length ? n + " of " + fs.length + " shown" : "";
      if (show) { images++; findings += n; }
      if (built[i]) filterBuilt(i);
    }
    document.querySelectorAll("#overview tr[data-repo]").forEach(function (tr) {
      tr.hidden = !!state.repo && tr.getAttribute("data-repo") !== state.repo;
    });
    var pill = document.getElementById("layer-filter");
    if (state.layer) {
      pill.hidden = false;
      pill.textContent = "";
      add(pill, el("span", null, "images with layer " + short(state.layer) + " "));
      var x = el("button", "x", "×");
      x.type = "button"; x.title = "remove the layer filter";
      x.addEventListener("click", function () { state.layer = ""; applyFilters(); });
      pill.appendChild(x);
    } else pill.hidden = true;
    shownOut.textContent = findings + " of " + total + " findings in " + images + " of " + R.images.length + " images";
    document.getElementById("none").hidden = images > 0;
  }

  function filterBuilt(i) {
    var im = R.images[i], sec = sections[i];
    sec.querySelectorAll("[data-f]").forEach(function (e) {
      var f = im.findings[+e.getAttribute("data-f")];
      e.classList.toggle("filtered", !matches(im, f));
    });
  }

  function readFilters() {
    var nav = document.getElementById("filters");
    nav.querySelectorAll("input[name=severity]").forEach(function (c) { state.sev[c.value] = c.checked; });
    nav.querySelectorAll("input[name=status]").forEach(function (c) { state.status[c.value] = c.checked; });
    var nw = nav.querySelector("input[name=new]");
    state.newOnly = !!(nw && nw.checked);
    state.cause = nav.querySelector("select[name=cause]").value;
    state.origin = nav.querySelector("select[name=origin]").value;
    var repo = nav.querySelector("select[name=repo]");
    state.repo = repo ? repo.value : "";
    state.q = nav.querySelector("input[name=q]").value.trim().toLowerCase();
    applyFilters();
  }

  // One image's section: meta, the layer timeline, the findings.
  function build(i) {
    if (built[i]) return;
    built[i] = true;
    var im = R.images[i], sec = sections[i], body = sec.querySelector(".body");
    var layers = im.layers || [], fs = im.findings || [];
    body.textContent = "";

    var meta = el("dl", "meta");
    function kv(k, v, mono) { if (v === "" || v == null) return; add(meta, el("dt", null, k), el("dd", mono ? "mono" : null, v)); }
    kv("reference", im.ref, true);
    kv("digest", im.digest, true);
    kv("platform", im.platform);
    if (im.base) kv("base image", (im.base.name || im.base.digest || "known") + " — layers 0–" + (im.base.layers - 1) + (im.base.source ? " (from " + im.base.source + ")" : ""));
    var st = im.stats || {};
    kv("scanned", (st.layers_scanned || 0) + " layers, " + (st.files_scanned || 0) + " files, " + bytes(st.bytes || 0) + " in " + (st.duration_ms || 0) + " ms");
    body.appendChild(meta);

    (im.errors || []).forEach(function (p) { body.appendChild(el("p", "problem error", "Error: " + problem(p))); });
    if ((im.warnings || []).length) {
      var wd = el("details", "warnings");
      wd.appendChild(el("summary", null, im.warnings.length + " warning" + (im.warnings.length === 1 ? "" : "s")));
      var ul = el("ul");
      im.warnings.forEach(function (p) { ul.appendChild(el("li", null, problem(p))); });
      body.appendChild(add(wd, ul));
    }

    body.appendChild(timeline(i, im, layers, fs));
    if (fs.length) {
      body.appendChild(el("h4", null, "Findings"));
      var list = el("ol", "findings");
      fs.forEach(function (f, k) { list.appendChild(card(i, im, f, k)); });
      body.appendChild(list);
    }
    filterBuilt(i);
  }

  function problem(p) {
    return (p.layer != null ? "layer " + p.layer + ": " : "") + (p.path ? p.path + ": " : "") + p.message;
  }

  function timeline(i, im, layers, fs) {
    var wrap = el("div", "tl-wrap");
    var baseN = im.base && im.base.layers > 0 ? im.base.layers : 0;
    // Spans: findings that a later layer deleted or overwrote.
    var spans = [];
    fs.forEach(function (f, k) {
      if (hidden(f) && f.removed_by && f.layer.index >= 0 && f.removed_by.index > f.layer.index && f.removed_by.index < layers.length) spans.push(k);
    });
    var lanes = Math.min(spans.length, MAX_LANES);
    var grid = el("div", "tl");
    var laneW = lanes ? Math.max(1.6, 5.5 / lanes).toFixed(2) + "em" : "";
    grid.style.gridTemplateColumns = "3.2em 6.5em minmax(0, 1fr)" + (lanes ? " repeat(" + lanes + ", " + laneW + ")" : "");
    var row = 1;
    add(grid, cell("th", "idx", "#", row, 1), cell("th", "size", "size", row, 2), cell("th", "instr", "instruction · findings added", row, 3));
    if (lanes) {
      var lh = cell("th", "laneh", "hidden", row, 4);
      lh.style.gridColumn = "4 / span " + lanes;
      lh.title = "each bar runs from the layer that added a file to the layer that deleted or overwrote it: hidden, but still in the image";
      grid.appendChild(lh);
    }
    var rowOf = {};
    var maxSize = 1;
    layers.forEach(function (l) { if (l.size > maxSize) maxSize = l.size; });
    var byLayer = {}, removedAt = {};
    fs.forEach(function (f, k) {
      var li = f.layer ? f.layer.index : -1;
      (byLayer[li] = byLayer[li] || []).push(k);
      if (hidden(f) && f.removed_by) (removedAt[f.removed_by.index] = removedAt[f.removed_by.index] || []).push(k);
    });
    layers.forEach(function (l, n) {
      if (baseN && n === baseN) {
        row++;
        var b = cell("div", "boundary", "▲ base image" + (im.base.name ? " " + im.base.name : "") + " · your build steps ▼", row, 1);
        b.style.gridColumn = "1 / -1";
        grid.appendChild(b);
      }
      row++;
      rowOf[l.index] = row;
      var cls = (baseN && n < baseN ? " inbase" : "") + ((byLayer[l.index] || []).length ? " has" : "");
      var idx = cell("div", "idx" + cls, l.index, row, 1);
      idx.id = "img-" + i + "-l-" + l.index;
      idx.setAttribute("data-layer-row", l.index);
      var size = cell("div", "size" + cls, null, row, 2);
      var bar = el("span", "bar");
      bar.style.width = Math.max(2, Math.round(100 * Math.log(1 + l.size) / Math.log(1 + maxSize))) + "%";
      add(size, el("span", "n", bytes(l.size || 0)), bar);
      var ins = cell("div", "instr" + cls, null, row, 3);
      var line = el("div", "iline");
      add(line, el("code", "mono", l.instruction || l.created_by || "(no history entry)"));
      var dg = el("span", "dig mono", short(l.digest));
      dg.title = l.digest + (l.history_index >= 0 ? " · history entry " + l.history_index : "");
      line.appendChild(dg);
      ins.appendChild(line);
      var chips = el("div", "chips");
      (byLayer[l.index] || []).forEach(function (k, c) {
        if (c === MAX_CHIPS) {
          var more = el("a", "chip more", "+" + (byLayer[l.index].length - MAX_CHIPS) + " more below");
          more.href = "#img-" + i + "-f-" + k;
          chips.appendChild(more);
        }
        if (c >= MAX_CHIPS) return;
        chips.appendChild(chip(i, fs[k], k, false));
      });
      (removedAt[l.index] || []).slice(0, MAX_CHIPS).forEach(function (k) { chips.appendChild(chip(i, fs[k], k, true)); });
      if (chips.childNodes.length) ins.appendChild(chips);
      add(grid, idx, size, ins);
      if (lanes) {
        var fill = cell("div", "lanefill" + cls, null, row, 4);
        fill.style.gridColumn = "4 / span " + lanes;
        grid.appendChild(fill);
      }
    });
    // Config and history entries that made no layer.
    if ((byLayer[-1] || []).length) {
      row++;
      rowOf[-1] = row;
      var c1 = cell("div", "idx cfg", "cfg", row, 1);
      c1.id = "img-" + i + "-l--1";
      var c2 = cell("div", "size cfg", "", row, 2);
      var c3 = cell("div", "instr cfg", null, row, 3);
      c3.appendChild(el("div", "iline", "image config and history (no layer: travels with every copy of the image)"));
      var ch = el("div", "chips");
      byLayer[-1].forEach(function (k) { ch.appendChild(chip(i, fs[k], k, false)); });
      add(grid, c1, c2, add(c3, ch));
    }
    // Lanes of the spans, drawn over the rows from adder to remover.
    spans.slice(0, lanes).forEach(function (k, lane) {
      var f = fs[k], from = rowOf[f.layer.index], to = rowOf[f.removed_by.index];
      if (!from || !to) return;
      var s = el("a", "span " + sevClass(f.severity) + " st-" + f.status);
      s.href = "#img-" + i + "-f-" + k;
      s.style.gridColumn = String(4 + lane);
      s.style.gridRow = from + " / " + (to + 1);
      s.setAttribute("data-f", k);
      s.setAttribute("data-from", f.layer.index);
      s.setAttribute("data-to", f.removed_by.index);
      s.title = f.rule + " " + where(f) + ": added by layer " + f.layer.index + ", " + f.status + " by layer " + f.removed_by.index +
        " — hidden, but still present in layer " + f.layer.index;
      add(s, el("span", "dot"), el("span", "line"), el("span", "cap", f.status === "deleted" ? "✕" : "⇄"));
      grid.appendChild(s);
    });
    wrap.appendChild(grid);
    if (spans.length > lanes) wrap.appendChild(el("p", "muted", (spans.length - lanes) + " more hidden files are listed below without a bar."));
    if (!layers.length) wrap.appendChild(el("p", "muted", "No layers."));
    return wrap;
  }

  function cell(tag, cls, text, row, col) {
    var c = el(tag, "c " + cls, text);
    c.style.gridRow = String(row);
    c.style.gridColumn = String(col);
    return c;
  }

  function chip(i, f, k, removal) {
    var a = el("a", "chip " + sevClass(f.severity) + (removal ? " removal" : " st-" + f.status));
    a.href = "#img-" + i + "-f-" + k;
    a.setAttribute("data-f", k);
    if (removal) {
      add(a, el("span", "tag", f.status === "deleted" ? "✕ deletes" : "⇄ overwrites"), el("span", "w", where(f)),
        el("span", "note", "still in layer " + f.layer.index));
    } else {
      add(a, el("span", "tag", f.severity), el("span", "r", f.rule), el("span", "w", where(f)));
      if (hidden(f) && f.removed_by) a.appendChild(el("span", "note", f.status + " by layer " + f.removed_by.index));
      if (f.new) a.appendChild(el("span", "newb", "NEW"));
    }
    a.title = f.rule + " · " + where(f) + " · " + f.status;
    return a;
  }

  function card(i, im, f, k) {
    var li = el("li", "finding " + sevClass(f.severity) + " st-" + f.status);
    li.id = "img-" + i + "-f-" + k;
    li.setAttribute("data-f", k);
    var h = el("div", "fh");
    add(h, el("span", "sev " + sevClass(f.severity), f.severity), el("span", "rule mono", f.rule), el("span", "where mono", where(f)));
    if (f.line > 0) h.appendChild(el("span", "line", "line " + f.line));
    if (f.new) h.appendChild(el("span", "newb", "NEW"));
    li.appendChild(h);
    var dl = el("dl", "fd");
    function kv(k2, v, cls) {
      if (v === "" || v == null) return null;
      var dd = el("dd", cls || null);
      if (typeof v === "string") dd.textContent = v; else dd.appendChild(v);
      add(dl, el("dt", null, k2), dd);
      return dd;
    }
    var layerTxt = f.layer.index >= 0 ? "layer " + f.layer.index + " · " + (f.layer.instruction || "") : "image config";
    var la = el("a", "mono", layerTxt);
    la.href = "#img-" + i + "-l-" + f.layer.index;
    kv("added by", la);
    var stx = f.status;
    if (f.removed_by) stx += " by layer " + f.removed_by.index + " · " + (f.removed_by.instruction || "");
    kv("status", stx, "status st-" + f.status);
    if (hidden(f)) kv("", "hidden, but present: the bytes are still in layer " + f.layer.index + " for anyone who pulls the image", "hbp");
    kv("cause", f.cause, "mono");
    kv("origin", originText(f));
    kv("remediation", f.remediation);
    if (f.evidence) {
      var ev = el("div", "evidence");
      var code = el("code", "mono", f.evidence);
      var btn = el("button", "copy", "copy");
      btn.type = "button";
      btn.setAttribute("data-copy", k);
      add(ev, code, btn);
      kv("evidence", ev);
    }
    kv("secret", f.secret, "secret mono");
    kv("encoding", f.encoding);
    kv("note", f.note);
    kv("description", f.description, "muted");
    kv("fingerprint", f.fingerprint, "mono muted");
    li.appendChild(dl);
    return li;
  }

  // Opening, links and printing.
  function openImage(i) {
    var sec = sections[i];
    if (!sec) return null;
    build(i);
    if (!sec.open) sec.open = true;
    return sec;
  }
  document.addEventListener("toggle", function (e) {
    var t = e.target;
    if (t.classList && t.classList.contains("image") && t.open) build(+t.getAttribute("data-i"));
  }, true);

  function follow() {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h.indexOf("repo=") === 0) {
      var sel = document.querySelector("select[name=repo]");
      if (sel) { sel.value = h.slice(5); readFilters(); }
      var first = document.querySelector("details.image:not([hidden])");
      if (first) first.scrollIntoView();
      return;
    }
    var m = /^img-(\d+)(?:-(l|f)-(-?\d+))?$/.exec(h);
    if (!m) return;
    var sec = openImage(+m[1]);
    if (!sec) return;
    if (sec.hidden) { resetFilters(); }
    var target = document.getElementById(h) || sec;
    target.scrollIntoView({ block: m[2] ? "center" : "start" });
    target.classList.add("flash");
    setTimeout(function () { target.classList.remove("flash"); }, 1600);
  }
  window.addEventListener("hashchange", follow);

  function resetFilters() {
    var nav = document.getElementById("filters");
    nav.querySelectorAll("input[type=checkbox]").forEach(function (c) { c.checked = c.name !== "new"; });
    nav.querySelectorAll("select").forEach(function (s) { s.value = ""; });
    nav.querySelector("input[name=q]").value = "";
    state.layer = "";
    readFilters();
  }

  var printOpened = [];
  window.addEventListener("beforeprint", function () {
    var n = 0;
    printOpened = [];
    for (var i = 0; i < sections.length && n < PRINT_MAX; i++) {
      if (sections[i].hidden) continue;
      n++;
      if (!sections[i].open) { build(i); sections[i].open = true; printOpened.push(i); }
    }
  });
  window.addEventListener("afterprint", function () {
    printOpened.forEach(function (i) { sections[i].open = false; });
    printOpened = [];
  });

  var nav = document.getElementById("filters");
  nav.hidden = false;
  nav.addEventListener("change", readFilters);
  var qTimer = 0;
  nav.querySelector("input[name=q]").addEventListener("input", function () {
    clearTimeout(qTimer);
    qTimer = setTimeout(readFilters, 150);
  });
  nav.addEventListener("click", function (e) {
    var act = e.target.getAttribute && e.target.getAttribute("data-act");
    if (act === "reset") resetFilters();
    if (act === "collapse") sections.forEach(function (s) { s.open = false; });
    if (act === "expand") {
      var n = 0;
      for (var i = 0; i < sections.length && n < 50; i++) if (!sections[i].hidden) { openImage(i); n++; }
    }
  });
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-layer-filter],[data-repo-link],[data-new-filter],button.copy") : null;
    if (!t) return;
    if (t.hasAttribute("data-new-filter")) {
      var nw = document.querySelector("input[name=new]");
      if (nw) { nw.checked = true; readFilters(); }
      var fi = document.querySelector("details.image:not([hidden])");
      if (fi) fi.scrollIntoView();
    } else if (t.hasAttribute("data-layer-filter")) {
      state.layer = t.getAttribute("data-layer-filter");
      applyFilters();
      var first = document.querySelector("details.image:not([hidden])");
      if (first) first.scrollIntoView();
    } else if (t.hasAttribute("data-repo-link")) {
      e.preventDefault();
      var sel = document.querySelector("select[name=repo]");
      if (sel) { sel.value = t.getAttribute("data-repo-link"); readFilters(); }
      var f = document.querySelector("details.image:not([hidden])");
      if (f) f.scrollIntoView();
    } else {
      var code = t.parentNode.querySelector("code");
      if (navigator.clipboard && code) navigator.clipboard.writeText(code.textContent).then(function () { t.textContent = "copied"; }, function () {});
    }
  });

  readFilters();
  for (var i = 0; i < sections.length; i++) if (sections[i].open) build(i);
  follow();
  document.documentElement.setAttribute("data-ready", "1");
  document.documentElement.setAttribute("data-init-ms", String(Math.round(performance.now() - t0)));
})();
