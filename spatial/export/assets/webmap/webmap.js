/* spatial-screening web map runtime (project code, MIT License).
 *
 * Builds the layers, popups, legend, search box and controls of map.html from the JSON blocks
 * that spatial/export/webmap.py writes into <script type="application/json"> elements.
 *
 * Rule: every text that comes from the data reaches the page through esc() (strings that
 * Leaflet or a plugin inserts as HTML) or through textContent (DOM built here); never raw.
 */
(function (global) {
  "use strict";

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

  /** HTML-escape any value; null and undefined give "". */
  function esc(value) {
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"'`]/g, function (c) {
      return ESC[c];
    });
  }

  function readJson(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  /** A columnar table: {n, columns: {name: [values] | {dict: [labels], codes: [index|null]}}}. */
  function Table(raw) {
    this.n = raw.n;
    this.cols = raw.columns;
  }
  Table.prototype.has = function (name) {
    return Object.prototype.hasOwnProperty.call(this.cols, name);
  };
  Table.prototype.get = function (i, name) {
    var col = this.cols[name];
    if (col === undefined) return null;
    if (Array.isArray(col)) return col[i];
    var code = col.codes[i];
    return code === null || code === undefined ? null : col.dict[code];
  };

  var INT = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0 });
  var DEC = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 2 });

  /** The text of one popup value, or null when there is nothing to show. */
  function formatValue(value, format) {
    if (value === null || value === undefined || value === "") return null;
    switch (format) {
      case "metres":
        if (typeof value !== "number") return String(value);
        if (value < 1000) return INT.format(value) + " 米";
        return INT.format(value) + " 米（" + DEC.format(value / 1000) + " 公里）";
      case "percent":
        return typeof value === "number" ? DEC.format(value) + "%" : String(value);
      case "days":
        return typeof value === "number" ? INT.format(value) + " 天" : String(value);
      case "mw":
        return typeof value === "number" ? DEC.format(value) + " MW" : String(value);
      case "yesno":
        return value === true ? "是" : value === false ? "否" : String(value);
      default:
        return String(value);
    }
  }

  /** Popup HTML: a title and a two-column table; labels and values are escaped here. */
  function popupHtml(title, fields, get) {
    var rows = [];
    for (var k = 0; k < fields.length; k++) {
      var text = formatValue(get(fields[k][1]), fields[k][2]);
      if (text !== null) {
        rows.push("<tr><th>" + esc(fields[k][0]) + "</th><td>" + esc(text) + "</td></tr>");
      }
    }
    return (
      '<div class="sm-popup"><div class="sm-popup-title">' +
      esc(title) +
      "</div><table>" +
      rows.join("") +
      "</table></div>"
    );
  }

  // ------------------------------------------------------------------------------------------
  // Layers. Each builder returns [{label, layer, count}] entries for the layer control.

  function enterpriseLayers(ctx, spec) {
    var table = new Table(readJson(spec.data));
    var lon = table.cols.lon;
    var lat = table.cols.lat;
    var cat = table.cols.cat;
    var groups = [];
    var styles = [];
    var counts = [];
    spec.categories.forEach(function (c) {
      groups.push(L.featureGroup());
      styles.push(L.extend({}, spec.style, { renderer: ctx.renderer, fillColor: c.color }));
      counts.push(0);
    });
    var markers = new Array(table.n);
    for (var i = 0; i < table.n; i++) {
      var m = L.circleMarker([lat[i], lon[i]], styles[cat[i]]);
      m._smRow = i;
      markers[i] = m;
      groups[cat[i]].addLayer(m);
      counts[cat[i]]++;
    }
    var popup = function (i) {
      var name = table.get(i, spec.popup.title);
      return popupHtml(name === null ? spec.label : name, spec.popup.fields, function (col) {
        return table.get(i, col);
      });
    };
    ctx.enterprises = { table: table, markers: markers, popup: popup, groups: groups };
    var popupFn = function (layer) {
      return popup(layer._smRow);
    };
    var tooltipFn = function (layer) {
      return esc(table.get(layer._smRow, spec.popup.title));
    };
    return spec.categories.map(function (c, k) {
      groups[k].bindPopup(popupFn, { maxWidth: 380 });
      groups[k].bindTooltip(tooltipFn, { direction: "top", offset: [0, -4] });
      return { label: c.label, layer: groups[k], count: counts[k], color: c.color };
    });
  }

  var ICONS = { star: true, diamond: true };

  function pointLayer(ctx, spec) {
    var table = new Table(readJson(spec.data));
    var group = L.featureGroup();
    var style = L.extend({}, spec.style, { renderer: ctx.renderer });
    for (var i = 0; i < table.n; i++) {
      var latlng = [table.cols.lat[i], table.cols.lon[i]];
      var m;
      if (spec.icon) {
        // a few points (heat sources): DOM markers, always above the plants' canvas
        var shape = ICONS[table.get(i, "icon")] ? table.get(i, "icon") : "diamond";
        var icon = L.divIcon({ className: "sm-icon sm-icon-" + shape, iconSize: [18, 18] });
        m = L.marker(latlng, { icon: icon, keyboard: false, riseOnHover: true });
        m.on("add", function (e) {
          var el = e.target.getElement();
          if (el) el.style.setProperty("--sm-color", spec.style.color);
        });
      } else {
        m = L.circleMarker(latlng, style);
      }
      m._smRow = i;
      group.addLayer(m);
    }
    if (spec.popup) {
      group.bindPopup(
        function (layer) {
          var i = layer._smRow;
          var title = table.get(i, spec.popup.title);
          return popupHtml(title === null ? spec.label : title, spec.popup.fields, function (col) {
            return table.get(i, col);
          });
        },
        { maxWidth: 360 }
      );
    }
    return [{ label: spec.label, layer: group, count: table.n }];
  }

  function polygonLayer(ctx, spec) {
    var data = readJson(spec.data);
    var style = L.extend({}, spec.style);
    var layer = L.geoJSON(data, {
      renderer: ctx.renderer,
      interactive: !!spec.popup,
      style: function () {
        return style;
      },
    });
    if (spec.popup) {
      layer.bindPopup(
        function (l) {
          var p = l.feature.properties || {};
          var title = p[spec.popup.title];
          return popupHtml(title ? title : spec.label, spec.popup.fields, function (col) {
            return p[col] === undefined ? null : p[col];
          });
        },
        { maxWidth: 360 }
      );
    }
    return [{ label: spec.label, layer: layer, count: data.features.length }];
  }

  var BUILDERS = { enterprises: enterpriseLayers, points: pointLayer, polygons: polygonLayer };

  // ------------------------------------------------------------------------------------------
  // Controls

  var SearchControl = L.Control.extend({
    options: { position: "topright", placeholder: "搜索企业名称或编号", limit: 20 },

    initialize: function (ctx, options) {
      L.setOptions(this, options);
      this._ctx = ctx;
      this._hits = [];
      this._keys = null;
    },

    onAdd: function () {
      var box = L.DomUtil.create("div", "leaflet-bar sm-search");
      var input = (this._input = L.DomUtil.create("input", "sm-search-input", box));
      input.type = "search";
      input.placeholder = this.options.placeholder;
      input.setAttribute("aria-label", this.options.placeholder);
      this._list = L.DomUtil.create("ul", "sm-search-results", box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var self = this;
      var timer = null;
      L.DomEvent.on(input, "input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          self.search(input.value);
        }, 120);
      });
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter") {
          clearTimeout(timer);
          self.search(input.value);
          if (self._hits.length) self.select(self._hits[0]);
        } else if (e.key === "Escape") {
          input.value = "";
          self.search("");
        }
      });
      return box;
    },

    _index: function () {
      if (this._keys) return this._keys;
      var t = this._ctx.enterprises.table;
      var keys = new Array(t.n);
      for (var i = 0; i < t.n; i++) {
        keys[i] = (String(t.get(i, "name") || "") + "\u0000" + String(t.get(i, "id") || "")).toLowerCase();
      }
      return (this._keys = keys);
    },

    /** Show the plants whose name or id contains the query; returns their row numbers. */
    search: function (query) {
      var q = String(query || "").trim().toLowerCase();
      var list = this._list;
      while (list.firstChild) list.removeChild(list.firstChild);
      this._hits = [];
      if (!q || !this._ctx.enterprises) return this._hits;
      var keys = this._index();
      var t = this._ctx.enterprises.table;
      var total = 0;
      for (var i = 0; i < keys.length; i++) {
        if (keys[i].indexOf(q) !== -1) {
          total++;
          if (this._hits.length < this.options.limit) this._hits.push(i);
        }
      }
      var self = this;
      this._hits.forEach(function (row) {
        var li = L.DomUtil.create("li", "sm-search-hit", list);
        var county = t.get(row, "county");
        li.textContent = String(t.get(row, "name")) + (county ? " · " + county : "");
        L.DomEvent.on(li, "click", function () {
          self.select(row);
        });
      });
      if (total === 0 || total > this._hits.length) {
        var note = L.DomUtil.create("li", "sm-search-note", list);
        note.textContent = total === 0 ? "未找到" : "共 " + total + " 家，仅列出前 " + this._hits.length + " 家";
      }
      return this._hits;
    },

    select: function (row) {
      this._ctx.showEnterprise(row);
    },
  });

  function legendControl(ctx, sections) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var outer = L.DomUtil.create("div", "sm-legend sm-box");
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var box = L.DomUtil.create("details", "", outer);
      box.open = true;
      var head = L.DomUtil.create("summary", "sm-legend-head", box);
      head.textContent = "图例";
      sections.forEach(function (section) {
        var title = L.DomUtil.create("div", "sm-legend-section", box);
        title.textContent = section.title;
        section.items.forEach(function (item) {
          var row = L.DomUtil.create("div", "sm-legend-item", box);
          var shape = /^[a-z]+$/.test(item.shape) ? item.shape : "fill";
          var sw = L.DomUtil.create("span", "sm-swatch sm-swatch-" + shape, row);
          if (shape === "line") sw.style.borderColor = item.color;
          else if (ICONS[shape]) sw.style.setProperty("--sm-color", item.color);
          else sw.style.backgroundColor = item.color;
          if (item.stroke) sw.style.borderColor = item.stroke;
          var text = L.DomUtil.create("span", "sm-legend-label", row);
          text.textContent = item.count === undefined ? item.label : item.label + "（" + item.count + "）";
        });
      });
      return outer;
    };
    return control;
  }

  function infoControl(cfg) {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "sm-info sm-box");
      L.DomEvent.disableClickPropagation(box);
      var title = L.DomUtil.create("div", "sm-info-title", box);
      title.textContent = cfg.title;
      (cfg.notes || []).forEach(function (note) {
        L.DomUtil.create("div", "sm-info-note", box).textContent = note;
      });
      if (cfg.link && /^https?:\/\//i.test(cfg.link.url)) {
        var row = L.DomUtil.create("div", "sm-info-link", box);
        if (cfg.link.qr && /^data:image\/png;base64,[A-Za-z0-9+/=]+$/.test(cfg.link.qr)) {
          var img = L.DomUtil.create("img", "sm-qr", row);
          img.src = cfg.link.qr;
          img.alt = "地图链接二维码";
        }
        var a = L.DomUtil.create("a", "sm-info-url", row);
        a.href = cfg.link.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = cfg.link.url;
      }
      return box;
    };
    return control;
  }

  // ------------------------------------------------------------------------------------------

  function markReady(ctx) {
    // Two animation frames: the canvas has drawn every layer added above.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        ctx.ready = true;
        ctx.readyAt = performance.now();
        document.documentElement.setAttribute("data-map-ready", "1");
        document.dispatchEvent(new CustomEvent("spatialmap:ready"));
      });
    });
  }

  /** Build everything described by the JSON config block `configId` on the Leaflet `map`. */
  function build(map, configId) {
    var cfg = readJson(configId);
    var ctx = {
      map: map,
      config: cfg,
      layers: {},
      entries: [],
      ready: false,
      esc: esc,
      renderer: L.canvas({ padding: 0.3, tolerance: 4 }),
    };
    global.spatialMap = ctx;
    map.setMaxZoom(cfg.maxZoom);
    map.setMinZoom(3);
    if (cfg.bounds) {
      // before any layer is drawn, and without animation: the first frame is the final view
      map.fitBounds(cfg.bounds, { padding: [20, 20], maxZoom: 14, animate: false });
    }
    if (!cfg.basemap.length) L.DomUtil.addClass(map.getContainer(), "sm-blank");
    cfg.basemap.forEach(function (tile) {
      L.tileLayer(tile.url, tile.options).addTo(map);
    });
    if (cfg.attributionPrefix !== undefined && map.attributionControl) {
      map.attributionControl.setPrefix(esc(cfg.attributionPrefix));
    }

    // Layers, in stacking order (bottom first).
    cfg.layers.forEach(function (spec) {
      var entries = BUILDERS[spec.kind](ctx, spec);
      entries.forEach(function (entry, k) {
        entry.group = spec.group;
        entry.spec = spec;
        // sub-layers: the first category (most severe) is drawn on top
        entry.z = spec.z + (entries.length > 1 ? (entries.length - k) / 1000 : 0);
        entry.key = entries.length > 1 ? spec.id + ":" + spec.categories[k].key : spec.id;
        ctx.layers[entry.key] = entry.layer;
        ctx.entries.push(entry);
        if (spec.show) entry.layer.addTo(map);
      });
    });

    ctx.restack = function () {
      // Polygons under points, each kind in z order; called whenever an overlay is switched on
      // (Leaflet draws a re-added layer on top of the others).
      var byZ = ctx.entries.slice().sort(function (a, b) {
        return a.z - b.z;
      });
      byZ
        .filter(function (e) {
          return e.spec.kind === "polygons" && map.hasLayer(e.layer);
        })
        .reverse()
        .forEach(function (e) {
          e.layer.bringToBack();
        });
      byZ.forEach(function (e) {
        if (e.spec.kind !== "polygons" && map.hasLayer(e.layer)) e.layer.bringToFront();
      });
    };
    map.on("overlayadd", ctx.restack);
    map.on("popupopen", function (e) {
      ctx.popup = e.popup; // the open popup (tests and debugging read it)
    });
    map.on("popupclose", function (e) {
      if (ctx.popup === e.popup) ctx.popup = null;
    });
    map.on("tooltipopen", function (e) {
      ctx.tooltip = e.tooltip;
    });
    map.on("tooltipclose", function (e) {
      if (ctx.tooltip === e.tooltip) ctx.tooltip = null;
    });

    ctx.showEnterprise = function (row) {
      var t = ctx.enterprises.table;
      var latlng = L.latLng(t.cols.lat[row], t.cols.lon[row]);
      map.setView(latlng, Math.max(map.getZoom(), 14));
      return L.popup({ maxWidth: 380 }).setLatLng(latlng).setContent(ctx.enterprises.popup(row)).openOn(map);
    };

    // Controls.
    if (L.control.fullscreen) {
      L.control.fullscreen({ position: "topleft", title: "全屏", titleCancel: "退出全屏" }).addTo(map);
    }
    if (L.Control.Measure) {
      // leaflet-measure 2.1.7 with Leaflet >= 1.8: keep the capture marker from auto-panning.
      L.Control.Measure.include({
        _setCaptureMarkerIcon: function () {
          this._captureMarker.options.autoPanOnFocus = false;
          this._captureMarker.setIcon(L.divIcon({ iconSize: this._map.getSize().multiplyBy(2) }));
        },
      });
      ctx.measure = L.control
        .measure({
          position: "topleft",
          localization: "cn",
          primaryLengthUnit: "meters",
          secondaryLengthUnit: "kilometers",
          primaryAreaUnit: "sqmeters",
          secondaryAreaUnit: "hectares",
          activeColor: "#d9480f",
          completedColor: "#1c7ed6",
        })
        .addTo(map);
    }
    L.control.scale({ position: "bottomleft", imperial: false, maxWidth: 160 }).addTo(map);
    if (ctx.enterprises) {
      ctx.search = new SearchControl(ctx).addTo(map);
    }
    var grouped = {};
    ctx.entries.forEach(function (e) {
      var group = esc(e.group);
      grouped[group] = grouped[group] || {};
      var label = e.spec.kind === "enterprises" ? e.label + "（" + e.count + "）" : e.label;
      grouped[group][esc(label)] = e.layer;
    });
    ctx.control = L.control
      .groupedLayers({}, grouped, { collapsed: cfg.collapsedControl, groupCheckboxes: true })
      .addTo(map);
    legendControl(ctx, cfg.legend).addTo(map);
    infoControl(cfg).addTo(map);
    ctx.restack();

    markReady(ctx);
    return ctx;
  }

  global.SpatialMap = { build: build, esc: esc, formatValue: formatValue, popupHtml: popupHtml };
})(window);
