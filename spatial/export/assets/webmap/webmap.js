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

  var TAU = 2 * Math.PI;

  /**
   * The plants: one canvas, drawn in one pass per category (one path and one fill per colour),
   * so 20,000 or 100,000 points redraw in a few milliseconds after a pan or zoom. It is a
   * Leaflet renderer (for the pan/zoom transforms) in its own pane above the polygons, with
   * pointer-events off: clicks and hovers are hit-tested here, before Leaflet sees them.
   */
  var PlantLayer = L.Renderer.extend({
    initialize: function (table, categories, style) {
      L.Renderer.prototype.initialize.call(this, { padding: 0.1, pane: "smPlants" });
      var n = table.n;
      this._table = table;
      this._categories = categories;
      this._style = style;
      this._visible = categories.map(function () {
        return true;
      });
      // normalised Web Mercator (0..1), projected once
      this._mx = new Float64Array(n);
      this._my = new Float64Array(n);
      var members = categories.map(function () {
        return [];
      });
      for (var i = 0; i < n; i++) {
        var lat = Math.max(Math.min(table.cols.lat[i], 85.0511287798), -85.0511287798);
        var s = Math.sin((lat * Math.PI) / 180);
        this._mx[i] = (table.cols.lon[i] + 180) / 360;
        this._my[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
        members[table.cols.cat[i]].push(i);
      }
      this._members = members.map(function (m) {
        return Int32Array.from(m);
      });
      // draw order: the last category first, so the first (most severe) is on top
      this._order = categories
        .map(function (c, k) {
          return k;
        })
        .reverse();
    },

    _initContainer: function () {
      var canvas = (this._container = document.createElement("canvas"));
      canvas.style.pointerEvents = "none";
      this._ctx = canvas.getContext("2d");
    },

    _destroyContainer: function () {
      L.Util.cancelAnimFrame(this._frame);
      L.DomUtil.remove(this._container);
      delete this._ctx;
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) return;
      L.Renderer.prototype._update.call(this);
      var b = this._bounds;
      var size = b.getSize();
      var m = L.Browser.retina ? 2 : 1;
      L.DomUtil.setPosition(this._container, b.min);
      this._container.width = m * size.x;
      this._container.height = m * size.y;
      this._container.style.width = size.x + "px";
      this._container.style.height = size.y + "px";
      this._ctx.setTransform(m, 0, 0, m, -b.min.x * m, -b.min.y * m);
      this._draw();
    },

    redraw: function () {
      if (this._map && !this._frame) {
        this._frame = L.Util.requestAnimFrame(function () {
          this._frame = null;
          this._draw();
        }, this);
      }
      return this;
    },

    setVisible: function (k, visible) {
      this._visible[k] = visible;
      return this.redraw();
    },

    /** A pre-drawn circle per category (device pixels, RGBA), anti-aliased by the canvas. */
    _sprites: function (m) {
      if (this._spriteScale === m) return this._spriteList;
      var st = this._style;
      var half = Math.ceil((st.radius + st.weight + 1) * m);
      var size = 2 * half;
      this._spriteScale = m;
      this._spriteList = this._categories.map(function (c) {
        var canvas = document.createElement("canvas");
        canvas.width = canvas.height = size;
        var g = canvas.getContext("2d");
        g.scale(m, m);
        g.beginPath();
        g.arc(half / m, half / m, st.radius, 0, TAU);
        g.globalAlpha = st.fillOpacity;
        g.fillStyle = c.color;
        g.fill();
        if (st.weight > 0) {
          g.globalAlpha = st.opacity;
          g.lineWidth = st.weight;
          g.strokeStyle = st.color;
          g.stroke();
        }
        var data = g.getImageData(0, 0, size, size).data;
        return { half: half, size: size, rgba: data, px: new Uint32Array(data.buffer) };
      });
      return this._spriteList;
    },

    /**
     * Stamp the sprites into one ImageData and put it once: in software rendering (no GPU, as
     * on many office PCs) rasterising 20,000 arcs or drawImage calls takes 200-300 ms, this
     * takes a few tens.
     */
    _draw: function () {
      var ctx = this._ctx;
      if (!ctx || !this._bounds) return;
      var m = L.Browser.retina ? 2 : 1;
      var b = this._bounds;
      var W = this._container.width;
      var H = this._container.height;
      if (!this._image || this._image.width !== W || this._image.height !== H) {
        this._image = ctx.createImageData(W, H);
        this._buf = this._image.data;
        this._buf32 = new Uint32Array(this._buf.buffer);
      } else {
        this._buf32.fill(0);
      }
      var buf = this._buf;
      var buf32 = this._buf32;
      var sprites = this._sprites(m);
      var scale = this._map.options.crs.scale(this._map.getZoom());
      var origin = this._map.getPixelOrigin();
      var ox = (origin.x + b.min.x) * m;
      var oy = (origin.y + b.min.y) * m;
      var sm = scale * m;
      for (var o = 0; o < this._order.length; o++) {
        var k = this._order[o];
        if (!this._visible[k]) continue;
        var idx = this._members[k];
        var sp = sprites[k];
        var half = sp.half;
        var size = sp.size;
        var srgba = sp.rgba;
        var spx = sp.px;
        for (var j = 0; j < idx.length; j++) {
          var px = Math.round(this._mx[idx[j]] * sm - ox) - half;
          var py = Math.round(this._my[idx[j]] * sm - oy) - half;
          if (px <= -size || py <= -size || px >= W || py >= H) continue;
          var r0 = py < 0 ? -py : 0;
          var r1 = py + size > H ? H - py : size;
          var c0 = px < 0 ? -px : 0;
          var c1 = px + size > W ? W - px : size;
          for (var r = r0; r < r1; r++) {
            var srow = r * size;
            var drow = (py + r) * W + px;
            for (var c = c0; c < c1; c++) {
              var s = srow + c;
              var a = srgba[4 * s + 3];
              if (a === 0) continue;
              var d = drow + c;
              if (a === 255) {
                buf32[d] = spx[s];
                continue;
              }
              // "source over" on non-premultiplied RGBA
              var d4 = 4 * d;
              var s4 = 4 * s;
              var da = (buf[d4 + 3] * (255 - a)) / 255;
              var oa = a + da;
              buf[d4] = (srgba[s4] * a + buf[d4] * da) / oa;
              buf[d4 + 1] = (srgba[s4 + 1] * a + buf[d4 + 1] * da) / oa;
              buf[d4 + 2] = (srgba[s4 + 2] * a + buf[d4 + 2] * da) / oa;
              buf[d4 + 3] = oa;
            }
          }
        }
      }
      ctx.putImageData(this._image, 0, 0);
    },

    /** The row drawn on top at a layer point, or -1. */
    hit: function (point) {
      if (!this._map) return -1;
      var scale = this._map.options.crs.scale(this._map.getZoom());
      var origin = this._map.getPixelOrigin();
      var reach = this._style.radius + this._style.weight / 2 + 3;
      var best = -1;
      for (var o = 0; o < this._order.length; o++) {
        var k = this._order[o];
        if (!this._visible[k]) continue;
        var idx = this._members[k];
        for (var j = 0; j < idx.length; j++) {
          var dx = this._mx[idx[j]] * scale - origin.x - point.x;
          var dy = this._my[idx[j]] * scale - origin.y - point.y;
          if (dx * dx + dy * dy <= reach * reach) best = idx[j]; // drawn later: on top
        }
      }
      return best;
    },
  });

  /** One category of plants as a layer of its own, for the layer control. */
  var CategoryLayer = L.Layer.extend({
    initialize: function (plants, k, count) {
      this._plants = plants;
      this._k = k;
      this.count = count;
    },
    onAdd: function () {
      this._plants.setVisible(this._k, true);
    },
    onRemove: function () {
      this._plants.setVisible(this._k, false);
    },
  });

  function enterpriseLayers(ctx, spec) {
    var table = new Table(readJson(spec.data));
    var map = ctx.map;
    var pane = map.createPane("smPlants");
    pane.style.zIndex = 450; // above the polygons (400), below heat sources (600)
    pane.style.pointerEvents = "none";
    var plants = new PlantLayer(table, spec.categories, spec.style);
    var popup = function (i) {
      var name = table.get(i, spec.popup.title);
      return popupHtml(name === null ? spec.label : name, spec.popup.fields, function (col) {
        return table.get(i, col);
      });
    };
    ctx.enterprises = { table: table, popup: popup, plants: plants };
    plants.addTo(map);

    var container = map.getContainer();
    var tooltip = L.tooltip({ direction: "top", offset: [0, -6] });
    var hovered = -1;
    var down = null;
    var pending = null;
    function busy(e) {
      // leave the event to controls, popups, heat-source markers and the measure tool
      return (
        (ctx.measure && ctx.measure._locked) ||
        !e.target.closest ||
        e.target.closest(".leaflet-control, .leaflet-popup, .leaflet-marker-icon") !== null
      );
    }
    function rowAt(e) {
      return plants.hit(map.mouseEventToLayerPoint(e));
    }
    container.addEventListener(
      "mousedown",
      function (e) {
        down = [e.clientX, e.clientY];
      },
      true
    );
    container.addEventListener(
      "click",
      function (e) {
        if (busy(e)) return;
        if (down && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) > 4) return;
        var row = rowAt(e);
        if (row < 0) return; // not on a plant: polygons and the map get the click
        e.stopPropagation();
        ctx.openEnterprise(row);
      },
      true
    );
    container.addEventListener(
      "mousemove",
      function (e) {
        pending = e;
        L.Util.requestAnimFrame(function () {
          if (!pending) return;
          var ev = pending;
          pending = null;
          var row = busy(ev) || map.dragging.moving() ? -1 : rowAt(ev);
          if (row === hovered) return;
          hovered = row;
          L.DomUtil[row >= 0 ? "addClass" : "removeClass"](container, "sm-pointer");
          if (row < 0) {
            map.closeTooltip(tooltip);
            return;
          }
          tooltip._smRow = row;
          tooltip.setLatLng([table.cols.lat[row], table.cols.lon[row]]);
          tooltip.setContent(esc(table.get(row, spec.popup.title)));
          map.openTooltip(tooltip);
        });
      },
      true
    );
    container.addEventListener("mouseleave", function () {
      hovered = -1;
      map.closeTooltip(tooltip);
    });
    map.on("movestart zoomstart", function () {
      hovered = -1;
      map.closeTooltip(tooltip);
    });

    var counts = plants._members.map(function (m) {
      return m.length;
    });
    return spec.categories.map(function (c, k) {
      return {
        label: c.label,
        layer: new CategoryLayer(plants, k, counts[k]),
        count: counts[k],
        color: c.color,
      };
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
        entry.z = spec.z;
        entry.key = spec.kind === "enterprises" ? spec.id + ":" + spec.categories[k].key : spec.id;
        ctx.layers[entry.key] = entry.layer;
        ctx.entries.push(entry);
        if (spec.show) entry.layer.addTo(map);
      });
    });

    ctx.restack = function () {
      // Polygons in z order (Leaflet draws a re-added layer on top of the others); the plants
      // and heat sources are in panes above them.
      ctx.entries
        .filter(function (e) {
          return e.spec.kind === "polygons" && map.hasLayer(e.layer);
        })
        .sort(function (a, b) {
          return b.z - a.z;
        })
        .forEach(function (e) {
          e.layer.bringToBack();
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

    ctx.openEnterprise = function (row) {
      var t = ctx.enterprises.table;
      var latlng = L.latLng(t.cols.lat[row], t.cols.lon[row]);
      var popup = L.popup({ maxWidth: 380, offset: [0, -2] });
      popup._smRow = row;
      return popup.setLatLng(latlng).setContent(ctx.enterprises.popup(row)).openOn(map);
    };
    ctx.showEnterprise = function (row) {
      var t = ctx.enterprises.table;
      map.setView([t.cols.lat[row], t.cols.lon[row]], Math.max(map.getZoom(), 14));
      return ctx.openEnterprise(row);
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
