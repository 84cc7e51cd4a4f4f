/* careplan 关爱地图 finder: search, tap, nearby services by walking minutes, routes.
   Server transport asks the API (/search, /nearby); offline transport searches and routes here,
   over the inlined walking network, with the same rules as planner/finder/nearby.py. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("finder-data").textContent);
  var C = JSON.parse(document.getElementById("finder-config").textContent);
  var T = {
    zh: {title: "养老服务关爱地图", titleMeals: "助餐服务地图", searchLabel: "输入社区、街道、小区或机构名称（可用拼音首字母）",
      search: "搜索", within: "步行时间内：", hint: "在地图上点一下您的位置，或先搜索地名。",
      min: "分钟", walk: "步行约 {m} 分钟（{d} 米）", care: "养老服务", everyday: "日常生活服务",
      meals: "助餐点", none: "步行 {m} 分钟内没有找到服务。", offnet: "这个位置离步行道路太远，请点在道路附近。",
      noMatch: "没有找到这个名称。", loading: "正在查找…", found: "找到 {n} 处服务（按步行时间排序）。",
      switchLang: "English", toMeals: "助餐服务地图", toCare: "全部服务", synthetic: "示范数据：合成的示范区，不是真实地点。",
      attribution: "地图数据 © OpenStreetMap 贡献者 (ODbL)", here: "您的位置", route: "路线",
      address: "地址", phone: "电话", hours: "开放时间", fees: "收费标准", services: "服务内容",
      meal_times: "供餐时间", meal_price: "餐费", delivery: "送餐上门", capacity: "容量",
      free_places: "空余名额", rating: "等级", area15: "15 分钟步行范围", area30: "30 分钟步行范围"},
    en: {title: "Elderly-care finder", titleMeals: "Meal-service map", searchLabel: "Community, street, building or facility name (pinyin initials work)",
      search: "Search", within: "Walking time:", hint: "Tap your location on the map, or search for a place first.",
      min: "min", walk: "about {m} min walk ({d} m)", care: "Elderly-care services", everyday: "Everyday services",
      meals: "Meal points", none: "No service within a {m}-minute walk.", offnet: "This spot is too far from a walkable street; tap near a street.",
      noMatch: "No place of that name.", loading: "Searching…", found: "{n} services found (nearest first).",
      switchLang: "中文", toMeals: "Meal-service map", toCare: "All services", synthetic: "Demo data: a synthetic district, not a real place.",
      attribution: "Map data © OpenStreetMap contributors (ODbL)", here: "You are here", route: "Route",
      address: "Address", phone: "Phone", hours: "Opening hours", fees: "Fees", services: "Services",
      meal_times: "Meal times", meal_price: "Meal price", delivery: "Delivery", capacity: "Capacity",
      free_places: "Free places", rating: "Rating", area15: "15-minute walk", area30: "30-minute walk"}
  };
  var CARD = ["address", "phone", "hours", "fees", "services", "meal_times", "meal_price", "delivery",
    "capacity", "free_places", "rating"];
  var COLORS = {day_care: "#0b4f9c", meal_point: "#b23c00", community_complex: "#5b2a86",
    service_station: "#00695c", nursing_home: "#6d4c41", health: "#ad1457"};
  var state = {lang: C.lang || "zh", minutes: D.mode === "meals" ? 15 : 30, here: null, hits: [], chosen: -1};
  var isMeals = D.mode === "meals";

  function t(key, vars) {
    var s = (T[state.lang] || T.zh)[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.replace("{" + k + "}", vars[k]); });
    return s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function typeLabel(type) { var l = D.labels[type]; return l ? l[state.lang] || l.zh : type; }

  /* ---------- map ---------- */
  var N = D.network, n = N.lon.length;
  var map = L.map("map", {preferCanvas: true, zoomSnap: 0.5});
  var segs = [];
  for (var e = 0; e < N.u.length; e++) {
    segs.push([[N.lat[N.u[e]], N.lon[N.u[e]]], [N.lat[N.v[e]], N.lon[N.v[e]]]]);
  }
  L.polyline(segs, {color: "#6b6b6b", weight: 2, interactive: false}).addTo(map);
  var lats = N.lat.slice().sort(), lons = N.lon.slice().sort();
  map.fitBounds([[lats[0], lons[0]], [lats[n - 1], lons[n - 1]]]);
  map.attributionControl.setPrefix(false);
  var shown = D.places.filter(function (p) { return !isMeals || p.type === "meal_point"; });
  if (isMeals) {
    D.mealAreas.slice().sort(function (a, b) { return b.minutes - a.minutes; }).forEach(function (a) {
      L.geoJSON(a.geometry, {interactive: false, style: {color: "#b23c00", weight: 1,
        fillColor: a.minutes <= 15 ? "#e65100" : "#ffb74d", fillOpacity: a.minutes <= 15 ? 0.35 : 0.2}}).addTo(map);
    });
  }
  shown.forEach(function (p) {
    L.circleMarker([p.lat, p.lon], {radius: 9, weight: 3, color: "#fff", fillOpacity: 1,
      fillColor: p.group === "everyday" ? "#37474f" : (COLORS[p.type] || "#0b4f9c")})
      .bindTooltip(p.name).on("click", function (ev) { L.DomEvent.stopPropagation(ev); locate(p.lat, p.lon); })
      .addTo(map);
  });
  var hereLayer = L.layerGroup().addTo(map), routeLayer = L.layerGroup().addTo(map);
  var svgRenderer = L.svg();  /* routes as SVG paths (the streets are drawn on a canvas) */

  /* ---------- local routing (offline transport) ---------- */
  var lat0 = N.lat.reduce(function (a, b) { return a + b; }, 0) / n;
  var lon0 = N.lon.reduce(function (a, b) { return a + b; }, 0) / n;
  var KX = 111320 * Math.cos(lat0 * Math.PI / 180), KY = 110540;
  var X = new Float64Array(n), Y = new Float64Array(n);
  for (var i = 0; i < n; i++) { X[i] = (N.lon[i] - lon0) * KX; Y[i] = (N.lat[i] - lat0) * KY; }
  var start = new Int32Array(n + 1), adj = [], wts = [];
  (function buildAdjacency() {
    var deg = new Int32Array(n), k, e2;
    for (e2 = 0; e2 < N.u.length; e2++) { if (N.main[e2]) { deg[N.u[e2]]++; deg[N.v[e2]]++; } }
    for (k = 0; k < n; k++) { start[k + 1] = start[k] + deg[k]; }
    adj = new Int32Array(start[n]); wts = new Float64Array(start[n]);
    var fill = start.slice(0, n);
    for (e2 = 0; e2 < N.u.length; e2++) {
      if (!N.main[e2]) { continue; }
      adj[fill[N.u[e2]]] = N.v[e2]; wts[fill[N.u[e2]]++] = N.w[e2];
      adj[fill[N.v[e2]]] = N.u[e2]; wts[fill[N.v[e2]]++] = N.w[e2];
    }
  })();
  function snapLocal(x, y) {
    var best = {d: Infinity, e: -1, f: 0};
    for (var e3 = 0; e3 < N.u.length; e3++) {
      var ax = X[N.u[e3]], ay = Y[N.u[e3]], dx = X[N.v[e3]] - ax, dy = Y[N.v[e3]] - ay;
      var L2 = dx * dx + dy * dy, f = L2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / L2 : 0;
      f = Math.max(0, Math.min(1, f));
      var d = Math.hypot(ax + f * dx - x, ay + f * dy - y);
      if (d < best.d) { best = {d: d, e: e3, f: f}; }
    }
    return best;
  }
  function dijkstra(snap, limit) {
    var dist = new Float64Array(n).fill(Infinity), pred = new Int32Array(n).fill(-2);
    var heap = [], w = N.w[snap.e], acc = snap.d / N.speed;
    function push(node, d) {
      heap.push([d, node]); var c = heap.length - 1;
      while (c > 0) { var p = (c - 1) >> 1; if (heap[p][0] <= heap[c][0]) { break; } var tmp = heap[p]; heap[p] = heap[c]; heap[c] = tmp; c = p; }
    }
    function pop() {
      var top = heap[0], last = heap.pop();
      if (heap.length) { heap[0] = last; var c = 0;
        for (;;) { var l = 2 * c + 1, r = l + 1, m = c;
          if (l < heap.length && heap[l][0] < heap[m][0]) { m = l; }
          if (r < heap.length && heap[r][0] < heap[m][0]) { m = r; }
          if (m === c) { break; } var tmp = heap[m]; heap[m] = heap[c]; heap[c] = tmp; c = m; } }
      return top;
    }
    [[N.u[snap.e], acc + snap.f * w], [N.v[snap.e], acc + (1 - snap.f) * w]].forEach(function (s) {
      if (s[1] <= limit && s[1] < dist[s[0]]) { dist[s[0]] = s[1]; pred[s[0]] = -1; push(s[0], s[1]); }
    });
    while (heap.length) {
      var top = pop(), node = top[1];
      if (top[0] > dist[node]) { continue; }
      for (var k = start[node]; k < start[node + 1]; k++) {
        var nd = top[0] + wts[k], to = adj[k];
        if (nd <= limit && nd < dist[to]) { dist[to] = nd; pred[to] = node; push(to, nd); }
      }
    }
    return {dist: dist, pred: pred};
  }
  function edgePoint(e4, f) {
    var a = N.u[e4], b = N.v[e4];
    return [N.lat[a] + f * (N.lat[b] - N.lat[a]), N.lon[a] + f * (N.lon[b] - N.lon[a])];
  }
  function metres(line) {
    var s = 0;
    for (var k = 1; k < line.length; k++) {
      s += Math.hypot((line[k][1] - line[k - 1][1]) * KX, (line[k][0] - line[k - 1][0]) * KY);
    }
    return s;
  }
  function nearbyLocal(lat, lon, minutes) {
    var snap = snapLocal((lon - lon0) * KX, (lat - lat0) * KY);
    if (snap.e < 0 || snap.d > D.maxSnapM || !N.main[snap.e]) { return null; }
    var limit = minutes * 60, res = dijkstra(snap, limit), out = [];
    shown.forEach(function (p) {
      if (!p.ok) { return; }
      var w = N.w[p.edge], a = N.u[p.edge], b = N.v[p.edge], acc = p.access_m / N.speed;
      var viaU = res.dist[a] + p.frac * w, viaV = res.dist[b] + (1 - p.frac) * w;
      var best = Math.min(viaU, viaV) + acc, via = viaU <= viaV ? a : b;
      if (p.edge === snap.e) {
        var direct = Math.abs(p.frac - snap.f) * w + (snap.d + p.access_m) / N.speed;
        if (direct < best) { best = direct; via = -1; }
      }
      if (!(best <= limit)) { return; }
      var nodes = [];
      for (var k = via; k >= 0; k = res.pred[k]) { nodes.push([N.lat[k], N.lon[k]]); }
      nodes.reverse();
      var line = [[lat, lon], edgePoint(snap.e, snap.f)].concat(nodes, [edgePoint(p.edge, p.frac), [p.lat, p.lon]]);
      out.push({place: p, walk_min: Math.round(best / 6) / 10, walk_m: Math.round(metres(line)), route: line});
    });
    out.sort(function (x, y) { return x.walk_min - y.walk_min || (x.place.name < y.place.name ? -1 : 1); });
    return out;
  }
  function searchLocal(q) {
    q = q.trim().toLowerCase();
    if (!q) { return []; }
    var latin = /^[a-z0-9 ]+$/.test(q), qc = q.replace(/ /g, ""), hits = [];
    D.names.forEach(function (r) {
      var key = r[0].toLowerCase(), hay = null;
      if (key.indexOf(q) >= 0) { hay = key; } else if (latin && r[4].indexOf(qc) >= 0) { hay = r[4]; }
      if (hay === null) { return; }
      var target = hay === key ? q : qc, rank = hay === target ? 0 : (hay.indexOf(target) === 0 ? 1 : 2);
      hits.push({rank: rank, name: r[0], kind: r[1], lon: r[2], lat: r[3]});
    });
    hits.sort(function (a, b) { return a.rank - b.rank || a.name.length - b.name.length || (a.name < b.name ? -1 : 1); });
    return hits.slice(0, 20);
  }

  /* ---------- server transport ---------- */
  var byId = {};
  D.places.forEach(function (p) { byId[p.id] = p; });
  function nearbyServer(lat, lon, minutes) {
    var url = C.apiBase + "/nearby?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6) + "&minutes=" + minutes + "&route=true";
    if (isMeals) { url += "&types=meal_point"; }
    return fetch(url).then(function (r) { return r.json(); }).then(function (fc) {
      if (!fc.features) { return null; }
      return fc.features.map(function (f) {
        var pr = f.properties, p = byId[pr.facility_id] || {id: pr.facility_id, name: pr.name, type: pr.type, group: pr.group, card: {}};
        return {place: p, walk_min: pr.walk_min, walk_m: pr.walk_m,
          route: pr.route.coordinates.map(function (c) { return [c[1], c[0]]; })};
      });
    });
  }
  function searchServer(q) {
    return fetch(C.apiBase + "/search?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); })
      .then(function (body) { return body.results || []; });
  }

  /* ---------- rendering ---------- */
  function applyTexts() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = t(node.getAttribute("data-t")); });
    document.getElementById("search-input").placeholder = state.lang === "zh" ? "例如：玉林 或 yl" : "e.g. 玉林 or yl";
    document.getElementById("lang-switch").textContent = t("switchLang");
    var sw = document.getElementById("mode-switch");
    sw.textContent = isMeals ? t("toCare") : t("toMeals");
    sw.href = C.transport === "server" ? (isMeals ? "?mode=care" : "?mode=meals") : (isMeals ? "finder.html" : "meals.html");
    document.querySelectorAll(".minute").forEach(function (b) {
      b.textContent = b.getAttribute("data-minutes") + " " + t("min");
      b.setAttribute("aria-pressed", String(+b.getAttribute("data-minutes") === state.minutes));
    });
    document.getElementById("synthetic-note").hidden = !D.synthetic;
    renderResults();
  }
  function drawRoute(k) {
    state.chosen = k;
    routeLayer.clearLayers();
    var h = state.hits[k];
    if (!h) { return; }
    L.polyline(h.route, {color: "#fff", weight: 10, opacity: 0.9, renderer: svgRenderer}).addTo(routeLayer);
    L.polyline(h.route, {color: "#0b4f9c", weight: 6, className: "finder-route", renderer: svgRenderer}).addTo(routeLayer);
    document.querySelectorAll(".place").forEach(function (b) { b.setAttribute("aria-pressed", String(+b.getAttribute("data-k") === k)); });
  }
  function card(h, k) {
    var b = el("button", "place"), p = h.place;
    b.type = "button"; b.setAttribute("data-k", k); b.setAttribute("aria-pressed", "false");
    b.appendChild(el("span", "name", p.name));
    b.appendChild(el("span", "type", typeLabel(p.type)));
    b.appendChild(el("span", "walk", t("walk", {m: h.walk_min, d: h.walk_m})));
    var dl = el("dl");
    CARD.forEach(function (f) {
      if (p.card && p.card[f] !== undefined && p.card[f] !== "") {
        dl.appendChild(el("dt", null, t(f))); dl.appendChild(el("dd", null, String(p.card[f])));
      }
    });
    if (dl.childNodes.length) { b.appendChild(dl); }
    b.addEventListener("click", function () { drawRoute(k); });
    return b;
  }
  function renderResults() {
    var box = document.getElementById("results");
    box.textContent = "";
    var groups = isMeals ? [["care", t("meals")]] : [["care", t("care")], ["everyday", t("everyday")]];
    groups.forEach(function (g) {
      var ul = el("ul", "places"), any = false;
      state.hits.forEach(function (h, k) {
        if (h.place.group === g[0]) { var li = el("li"); li.appendChild(card(h, k)); ul.appendChild(li); any = true; }
      });
      if (any) { box.appendChild(el("h2", null, g[1])); box.appendChild(ul); }
    });
    if (state.chosen >= 0) { drawRoute(state.chosen); }
  }
  function setStatus(text) { document.getElementById("status").textContent = text; }
  function locate(lat, lon) {
    state.here = [lat, lon];
    hereLayer.clearLayers(); routeLayer.clearLayers();
    L.circleMarker([lat, lon], {radius: 12, color: "#111", weight: 4, fillColor: "#f9a825", fillOpacity: 1})
      .bindTooltip(t("here"), {permanent: false}).addTo(hereLayer);
    setStatus(t("loading"));
    var done = function (hits) {
      state.hits = hits || []; state.chosen = -1;
      setStatus(hits === null ? t("offnet") : (hits.length ? t("found", {n: hits.length}) : t("none", {m: state.minutes})));
      renderResults();
      if (state.hits.length) { drawRoute(0); }
    };
    if (C.transport === "server") { nearbyServer(lat, lon, state.minutes).then(done, function () { done(null); }); }
    else { done(nearbyLocal(lat, lon, state.minutes)); }
  }
  map.on("click", function (ev) { locate(ev.latlng.lat, ev.latlng.lng); });
  document.getElementById("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = document.getElementById("search-input").value, list = document.getElementById("search-results");
    var show = function (hits) {
      list.textContent = "";
      if (!hits.length) { list.appendChild(el("li", null, t("noMatch"))); return; }
      hits.slice(0, 8).forEach(function (h) {
        var li = el("li"), b = el("button", "search-hit", h.name);
        b.type = "button";
        b.addEventListener("click", function () {
          list.textContent = ""; map.setView([h.lat, h.lon], Math.max(map.getZoom(), 16)); locate(h.lat, h.lon);
        });
        li.appendChild(b); list.appendChild(li);
      });
    };
    if (C.transport === "server") { searchServer(q).then(show); } else { show(searchLocal(q)); }
  });
  document.getElementById("lang-switch").addEventListener("click", function () {
    state.lang = state.lang === "zh" ? "en" : "zh"; applyTexts();
  });
  document.querySelectorAll(".minute").forEach(function (b) {
    b.addEventListener("click", function () {
      state.minutes = +b.getAttribute("data-minutes"); applyTexts();
      if (state.here) { locate(state.here[0], state.here[1]); }
    });
  });
  window.careplanFinder = {locate: locate, state: state, nearbyLocal: nearbyLocal};
  applyTexts();
})();
