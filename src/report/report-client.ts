/**
 * The report's script (inlined into the page, run in the browser): reads the model from the
 * `#data` element and draws the tables, bars, histograms and the canvas timeline. Plain DOM, no
 * library. Written without template literals so that it can live in this string.
 */
export const reportClientScript = String.raw`
(function () {
  'use strict';
  var model = JSON.parse(document.getElementById('data').textContent);
  var COLORS = ['#9e9e9e', '#2e7d32', '#f9a825', '#1e88e5', '#c62828'];
  var STATES = ['stopped', 'running', 'waiting', 'sleeping', 'over budget'];

  function fmt(ns) {
    if (!(ns > 0)) return '0';
    if (ns < 1e3) return Math.round(ns) + 'ns';
    var units = [[1e9, 's'], [1e6, 'ms'], [1e3, 'us']];
    for (var i = 0; i < units.length; i++) {
      if (ns >= units[i][0]) {
        var v = ns / units[i][0];
        return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + units[i][1];
      }
    }
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function row(table, cells, head, cls) {
    var tr = el('tr', cls ? { class: cls } : {});
    cells.forEach(function (c) { tr.appendChild(el(head ? 'th' : 'td', {}, String(c))); });
    table.appendChild(tr);
    return tr;
  }

  // the per-name table
  var names = document.getElementById('names');
  var q = ['elapsed', 'running', 'waiting', 'sleeping'];
  var head = ['name', 'count', 'violations', 'budget'];
  q.forEach(function (n) { head.push(n + ' p50', n + ' p90', n + ' p99'); });
  row(names, head, true);
  model.names.forEach(function (n) {
    var cells = [n.name, n.count, n.violations, fmt(n.budgetNs)];
    n.pct.forEach(function (p) { cells.push(fmt(p[0]), fmt(p[1]), fmt(p[2])); });
    row(names, cells, false, n.violations > 0 ? 'bad' : '');
  });

  // where the time goes
  var shares = document.getElementById('shares');
  model.names.forEach(function (n) {
    var total = n.share[0] + n.share[1] + n.share[2] + n.share[3];
    var line = el('div', { class: 'share' });
    line.appendChild(el('div', { class: 'name', title: n.name }, n.name));
    var bar = el('div', { class: 'bar' });
    var text = [];
    n.share.forEach(function (s, i) {
      if (i === 3 && s === 0) return; // no window past its violation
      var pct = total > 0 ? (100 * s) / total : 0;
      var part = el('div', { class: STATES[i + 1], title: STATES[i + 1] + ' ' + pct.toFixed(1) + '%' });
      part.style.width = pct + '%';
      bar.appendChild(part);
      text.push(pct.toFixed(0) + '%');
    });
    line.appendChild(bar);
    line.appendChild(el('div', { class: 'hint' }, text.join(' / ') + ' of ' + fmt(total)));
    shares.appendChild(line);
  });

  // latency histograms (log x axis), budget marked
  var SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  var hists = document.getElementById('histograms');
  var undrawn = model.names.filter(function (n) { return !n.hist; }).length;
  if (undrawn > 0) hists.appendChild(el('p', { class: 'hint' }, 'Histograms of the ' + (model.names.length - undrawn) + ' names with the most windows; the ' + undrawn + ' others are in the table above.'));
  model.names.forEach(function (n) {
    if (!n.hist) return;
    var box = el('div', { class: 'hist' });
    box.appendChild(el('h3', {}, n.name + ' (' + n.count + ' windows, budget ' + fmt(n.budgetNs) + ')'));
    var W = 340, H = 140, pad = 22;
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img' });
    var edges = n.hist.edges, counts = n.hist.counts;
    if (counts.length > 0) {
      // the axis spans the budget too: every window over it, or every one well within it
      var lo = Math.log2(Math.max(1, Math.min(edges[0] || edges[1] / 2, n.budgetNs / 1.2)));
      var hi = Math.log2(Math.max(edges[edges.length - 1], n.budgetNs * 1.2));
      var max = Math.max.apply(null, counts);
      var x = function (v) { return ((Math.log2(Math.max(v, 1)) - lo) / (hi - lo || 1)) * (W - 8) + 4; };
      counts.forEach(function (c, i) {
        var x0 = x(edges[i] || Math.pow(2, lo)), x1 = x(edges[i + 1]);
        var h = max > 0 ? ((H - pad - 4) * c) / max : 0;
        var over = edges[i] >= n.budgetNs;
        s.appendChild(svg('rect', { x: x0, y: H - pad - h, width: Math.max(1, x1 - x0 - 1), height: h, fill: over ? '#c62828' : '#546e7a' }));
      });
      var bx = x(n.budgetNs);
      s.appendChild(svg('line', { x1: bx, x2: bx, y1: 2, y2: H - pad, stroke: '#c62828', 'stroke-width': 2, 'stroke-dasharray': '4 2' }));
      // right of the line, or left of it where the line is in the right half: never past an edge
      var right = bx < W / 2;
      var label = svg('text', { x: right ? bx + 3 : bx - 3, y: 12, fill: '#c62828', 'font-size': 11, 'text-anchor': right ? 'start' : 'end' });
      label.textContent = 'budget ' + fmt(n.budgetNs);
      s.appendChild(label);
      [edges[0] || 1, Math.sqrt((edges[0] || 1) * edges[edges.length - 1]), edges[edges.length - 1]].forEach(function (v, i) {
        var t = svg('text', { x: x(v), y: H - 6, fill: '#5f6b7a', 'font-size': 10, 'text-anchor': ['start', 'middle', 'end'][i] });
        t.textContent = fmt(v);
        s.appendChild(t);
      });
    }
    box.appendChild(s);
    hists.appendChild(box);
  });

  // violations
  var vt = document.getElementById('violations');
  vt.appendChild(el('caption', { class: 'hint' }, 'worst first, by how many times its budget the call took; running, waiting and sleeping are the split when the budget ran out (\u2265: the call had not ended)'));
  row(vt, ['time', 'name', 'id', 'pid', 'thread', 'took', 'x budget', 'budget', 'state', 'event', 'found late', 'running', 'waiting', 'sleeping', 'stack'], true);
  model.violations.forEach(function (v) {
    var took = (v.ended ? '' : '\u2265 ') + fmt(v.tookNs);
    var times = v.budgetNs > 0 ? (v.tookNs / v.budgetNs).toFixed(2) + 'x' : '';
    var tr = row(vt, ['+' + v.atMs.toFixed(1) + 'ms', v.name, v.id, v.pid, v.thread === 0 ? 'main' : 'worker ' + v.thread, took, times, fmt(v.budgetNs), v.state, v.event, fmt(v.lateNs), fmt(v.split[1]), fmt(v.split[2]), fmt(v.split[3]), ''], false);
    if (v.stack) {
      var d = el('details');
      d.appendChild(el('summary', {}, 'stack'));
      d.appendChild(el('pre', {}, v.stack));
      tr.lastChild.appendChild(d);
    }
  });
  if (model.violations.length === 0) row(vt, ['no violation'], false);
  else if (model.violationsTotal > model.violations.length) row(vt, ['(' + (model.violationsTotal - model.violations.length) + ' more not listed)'], false);

  // the timeline
  var tl = model.timeline;
  var canvas = document.getElementById('timeline');
  var note = document.getElementById('timeline-note');
  var count = 0, lanes = 0, tMax = 0, byLane = [];
  for (var i = 0; i < tl.w.length; i += 6 + 2 * tl.w[i + 5]) {
    var lane = tl.w[i];
    (byLane[lane] = byLane[lane] || []).push(i);
    if (lane + 1 > lanes) lanes = lane + 1;
    if (tl.w[i + 3] > tMax) tMax = tl.w[i + 3];
    count++;
  }
  note.textContent = tl.total === 0
    ? 'No timeline was recorded (run with --report, --trace or --json, or TLOB_TRACE=1).'
    : 'Showing ' + count + ' of ' + tl.total + ' windows' + (count < tl.total ? ' (all over budget ones, and an even sample of the rest)' : '') +
      (tl.dropped > 0 ? '; ' + tl.dropped + ' transitions were dropped (buffer full)' : '') + '.';
  var LABEL = 0, MAX_HEIGHT = 600;
  var groupStart = [], acc = 0;
  tl.groups.forEach(function (g) { groupStart.push(acc); acc += g.lanes; });
  // lanes shrink (down to 2 px) so that every lane fits in the canvas; past that, the lanes scroll
  // under the time axis (drag up and down, Shift+wheel, the arrow and page keys, Home and End),
  // and windows over budget take the first lanes of their thread
  var AXIS = 20;
  var fit = Math.floor((MAX_HEIGHT - 24 - tl.groups.length * 16) / Math.max(1, lanes));
  var ROW = Math.max(2, Math.min(14, fit - (fit > 6 ? 2 : 0))), GAP = fit > 6 ? 2 : 0;
  var contentH = 24 + lanes * (ROW + GAP) + tl.groups.length * 16;
  if (contentH > MAX_HEIGHT)
    note.textContent += ' Its ' + lanes + ' lanes do not fit: drag up and down (or Shift+wheel, the arrow and page keys, Home, End) to scroll them; windows over budget take the first lanes of their thread.';
  var view = { from: 0, to: Math.max(tMax, 1), top: 0 };
  var ctx = canvas.getContext('2d');
  function resize() {
    var ratio = window.devicePixelRatio || 1;
    var cssW = canvas.clientWidth || 800;
    var cssH = Math.min(MAX_HEIGHT, Math.max(120, contentH));
    canvas.style.height = cssH + 'px';
    canvas.width = Math.round(cssW * ratio);
    canvas.height = Math.round(cssH * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    scrollTo(view.top);
  }
  // scrolls the lanes so that top px of them are above the canvas (clamped), and redraws
  function scrollTo(top) {
    view.top = Math.max(0, Math.min(top, contentH - canvas.clientHeight));
    draw();
  }
  function laneY(lane) {
    var g = 0;
    while (g + 1 < groupStart.length && groupStart[g + 1] <= lane) g++;
    return AXIS + (g + 1) * 16 + lane * (ROW + GAP) - view.top;
  }
  function draw() {
    var w = canvas.clientWidth, h = canvas.clientHeight;
    ctx.clearRect(0, 0, w, h);
    var scale = (w - LABEL) / (view.to - view.from);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#5f6b7a';
    var first = -1, last = -1;
    for (var lane = 0; lane < byLane.length; lane++) {
      var list = byLane[lane];
      if (!list) continue;
      var y = laneY(lane);
      if (y + ROW < AXIS) continue;
      if (y > h) break;
      if (first < 0) first = lane;
      last = lane;
      for (var j = 0; j < list.length; j++) {
        var i = list[j], start = tl.w[i + 2], end = tl.w[i + 3];
        if (end < view.from || start > view.to) continue;
        var n = tl.w[i + 5];
        for (var s = 0; s < n; s++) {
          var kind = tl.w[i + 6 + 2 * s], from = tl.w[i + 7 + 2 * s];
          var to = s + 1 < n ? tl.w[i + 9 + 2 * s] : end;
          var x0 = LABEL + (from - view.from) * scale, x1 = LABEL + (to - view.from) * scale;
          if (x1 < 0 || x0 > w) continue;
          ctx.fillStyle = COLORS[kind];
          ctx.fillRect(x0, y, Math.max(0.5, x1 - x0), ROW);
        }
        if (tl.w[i + 4] & 1) {
          ctx.strokeStyle = '#c62828';
          ctx.strokeRect(LABEL + (start - view.from) * scale, y - 0.5, Math.max(1, (end - start) * scale), ROW + 1);
        }
      }
    }
    // the time axis over the lanes scrolled under it
    ctx.clearRect(0, 0, w, AXIS);
    ctx.fillStyle = '#5f6b7a';
    for (var k = 0; k <= 5; k++) {
      var t = view.from + ((view.to - view.from) * k) / 5;
      ctx.fillText(fmt(t * 1000), Math.min(LABEL + k * (w - LABEL) / 5 + 2, w - 50), 12);
    }
    // each thread's label, above its first lane; while that lane is scrolled under the axis and
    // others of the thread are in sight, under the axis (on a veil over the lanes), until the
    // thread's last lane pushes it up
    var labels = [];
    tl.groups.forEach(function (g, gi) {
      var y = laneY(groupStart[gi]) - 4;
      var bottom = laneY(groupStart[gi] + Math.max(1, g.lanes) - 1) + ROW;
      var pinned = y < AXIS + 12;
      if (pinned) y = Math.min(AXIS + 12, bottom);
      if (y < AXIS + 10 || y > h) return;
      if (pinned) {
        ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
        ctx.fillRect(2, y - 11, ctx.measureText(g.label).width + 4, 14);
      }
      ctx.fillStyle = '#5f6b7a';
      ctx.fillText(g.label, 4, y);
      labels.push(g.label);
    });
    if (contentH > h) {
      // where the lanes in sight are among all of them
      ctx.fillStyle = 'rgba(95, 107, 122, 0.45)';
      ctx.fillRect(w - 4, AXIS + ((h - AXIS) * view.top) / contentH, 3, Math.max(8, ((h - AXIS) * h) / contentH));
    }
    // the lanes in sight, for tests and tools that read the page (a canvas shows no text)
    canvas.setAttribute('data-lanes', first < 0 ? '' : first + '-' + last);
    canvas.setAttribute('data-labels', labels.join('\n'));
  }
  function find(px, py) {
    for (var lane = 0; lane < byLane.length; lane++) {
      var y = laneY(lane);
      if (py < AXIS || py < y || py > y + ROW || !byLane[lane]) continue;
      var t = view.from + (px - LABEL) / ((canvas.clientWidth - LABEL) / (view.to - view.from));
      var list = byLane[lane];
      for (var j = 0; j < list.length; j++) {
        var i = list[j];
        if (tl.w[i + 2] <= t && t <= tl.w[i + 3]) return i;
      }
    }
    return -1;
  }
  var tip = document.getElementById('tip');
  var drag = null;
  canvas.addEventListener('mousedown', function (e) { drag = { x: e.clientX, y: e.clientY, from: view.from, to: view.to, top: view.top }; });
  window.addEventListener('mouseup', function () { drag = null; });
  canvas.addEventListener('mousemove', function (e) {
    var r = canvas.getBoundingClientRect();
    if (drag) {
      var dt = ((e.clientX - drag.x) / canvas.clientWidth) * (drag.to - drag.from);
      view.from = drag.from - dt; view.to = drag.to - dt;
      scrollTo(drag.top - (e.clientY - drag.y));
      return;
    }
    var i = find(e.clientX - r.left, e.clientY - r.top);
    if (i < 0) { tip.hidden = true; return; }
    var sums = [0, 0, 0, 0, 0], n = tl.w[i + 5];
    for (var s = 0; s < n; s++) {
      var to = s + 1 < n ? tl.w[i + 9 + 2 * s] : tl.w[i + 3];
      sums[tl.w[i + 6 + 2 * s]] += to - tl.w[i + 7 + 2 * s];
    }
    tip.textContent = tl.names[tl.w[i + 1]] + '  +' + (tl.w[i + 2] / 1000).toFixed(3) + 'ms\nelapsed ' + fmt((tl.w[i + 3] - tl.w[i + 2]) * 1000) +
      '\nrunning ' + fmt(sums[1] * 1000) + ', waiting ' + fmt(sums[2] * 1000) + ', sleeping ' + fmt(sums[3] * 1000) +
      ((tl.w[i + 4] & 1) ? '\nover budget' : '') + ((tl.w[i + 4] & 2) ? '\nunfinished' : '');
    tip.style.left = Math.min(e.clientX - r.left + 12, canvas.clientWidth - 220) + 'px';
    tip.style.top = (e.clientY - r.top + 12) + 'px';
    tip.hidden = false;
  });
  canvas.addEventListener('mouseleave', function () { tip.hidden = true; });
  function zoom(factor, at) {
    var t = view.from + (at / canvas.clientWidth) * (view.to - view.from);
    var span = Math.max(1, (view.to - view.from) * factor);
    view.from = t - (t - view.from) * (span / (view.to - view.from));
    view.to = view.from + span;
    draw();
  }
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    // Shift+wheel scrolls the lanes (some browsers turn it into a horizontal wheel)
    if (e.shiftKey) scrollTo(view.top + (e.deltaY || e.deltaX));
    else zoom(e.deltaY > 0 ? 1.25 : 0.8, e.clientX - canvas.getBoundingClientRect().left);
  }, { passive: false });
  canvas.addEventListener('dblclick', function () { view.from = 0; view.to = Math.max(tMax, 1); scrollTo(0); });
  canvas.tabIndex = 0;
  canvas.addEventListener('keydown', function (e) {
    var page = canvas.clientHeight - AXIS, step = { ArrowDown: 40, ArrowUp: -40, PageDown: page, PageUp: -page }[e.key];
    if (e.key === '+' || e.key === '=') zoom(0.8, canvas.clientWidth / 2);
    else if (e.key === '-') zoom(1.25, canvas.clientWidth / 2);
    else if (step !== undefined) scrollTo(view.top + step);
    else if (e.key === 'Home') scrollTo(0);
    else if (e.key === 'End') scrollTo(contentH);
    else return;
    e.preventDefault();
  });
  window.addEventListener('resize', resize);
  resize();
  document.body.setAttribute('data-rendered', String(count));
})();
`;
