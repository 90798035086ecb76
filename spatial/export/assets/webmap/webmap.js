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

  /**
   * A columnar table: {n, columns: {name: [values] | {dict: [labels], codes: [index, -1 for a
   * blank]} | {e6: [integers]}}}; e6 columns (coordinates in millionths of a degree) become
   * Float64Arrays of degrees.
   */
  function Table(raw) {
    this.n = raw.n;
    this.cols = raw.columns;
    for (var name in this.cols) {
      var col = this.cols[name];
      if (col && col.e6) {
        var out = new Float64Array(col.e6.length);
        for (var i = 0; i < out.length; i++) out[i] = col.e6[i] / 1e6;
        this.cols[name] = out;
      }
    }
  }
  Table.prototype.has = function (name) {
    return Object.prototype.hasOwnProperty.call(this.cols, name);
  };
  Table.prototype.get = function (i, name) {
    var col = this.cols[name];
    if (col === undefined) return null;
    if (col.codes === undefined) return col[i];
    var code = col.codes[i];
    return code === null || code === undefined || code < 0 ? null : col.dict[code];
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
  var GRID_ZOOM = 11; // below this zoom, plants of one category are drawn once per CELL pixels
  var CELL = 3;

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
      this._mask = null; // Uint8Array: 1 = passes the county filter; null = every row
      this._stamp = 0;
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
      // Leaflet updates a renderer several times for one zoom (viewreset, moveend, zoomend):
      // draw once, in the next frame, before it is painted
      L.Util.cancelAnimFrame(this._frame);
      this._frame = null;
      this.redraw();
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
      var mask = this._mask;
      // One stamp per cell and category: a plant drawn where another of its category already
      // is changes (almost) nothing on screen, so it is skipped. The cell is one pixel from
      // zoom GRID_ZOOM on (exact), CELL pixels below it, where 200,000 plants crowd a region
      // (a grid clustering of the drawing only: every plant stays clickable and listed).
      var cell = this._map.getZoom() >= GRID_ZOOM ? 1 : CELL * m;
      var SW = Math.ceil(W / cell);
      var SH = Math.ceil(H / cell);
      if (!this._seen || this._seen.length !== SW * SH) {
        this._seen = new Uint32Array(SW * SH);
        this._stamp = 0;
      }
      var seen = this._seen;
      for (var o = 0; o < this._order.length; o++) {
        var k = this._order[o];
        if (!this._visible[k]) continue;
        var idx = this._members[k];
        var sp = sprites[k];
        var half = sp.half;
        var size = sp.size;
        var srgba = sp.rgba;
        var spx = sp.px;
        var tag = ++this._stamp;
        if (tag >= 0xffffffff) {
          seen.fill(0);
          tag = this._stamp = 1;
        }
        for (var j = 0; j < idx.length; j++) {
          var row = idx[j];
          if (mask !== null && mask[row] === 0) continue;
          var cx = Math.round(this._mx[row] * sm - ox);
          var cy = Math.round(this._my[row] * sm - oy);
          if (cx >= 0 && cy >= 0 && cx < W && cy < H) {
            var sc = ((cy / cell) | 0) * SW + ((cx / cell) | 0);
            if (seen[sc] === tag) continue;
            seen[sc] = tag;
          }
          var px = cx - half;
          var py = cy - half;
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

    /** Every shown row under a layer point, the one drawn on top first. */
    hitAll: function (point) {
      if (!this._map) return [];
      var scale = this._map.options.crs.scale(this._map.getZoom());
      var origin = this._map.getPixelOrigin();
      var reach = this._style.radius + this._style.weight / 2 + 3;
      var mask = this._mask;
      var rows = [];
      for (var o = 0; o < this._order.length; o++) {
        var k = this._order[o];
        if (!this._visible[k]) continue;
        var idx = this._members[k];
        for (var j = 0; j < idx.length; j++) {
          var row = idx[j];
          if (mask !== null && mask[row] === 0) continue;
          var dx = this._mx[row] * scale - origin.x - point.x;
          var dy = this._my[row] * scale - origin.y - point.y;
          if (dx * dx + dy * dy <= reach * reach) rows.push(row);
        }
      }
      return rows.reverse(); // drawn last = on top = first
    },

    /** The row drawn on top at a layer point, or -1. */
    hit: function (point) {
      var rows = this.hitAll(point);
      return rows.length ? rows[0] : -1;
    },

    /** Show only the rows whose mask entry is 1 (null: every row). */
    setMask: function (mask) {
      this._mask = mask;
      return this.redraw();
    },

    /** Rows per category that pass the mask. */
    counts: function () {
      var mask = this._mask;
      return this._members.map(function (idx) {
        if (mask === null) return idx.length;
        var c = 0;
        for (var j = 0; j < idx.length; j++) c += mask[idx[j]];
        return c;
      });
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
    ctx.enterprises = { table: table, popup: popup, plants: plants, spec: spec };
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
        var rows = plants.hitAll(map.mouseEventToLayerPoint(e));
        if (!rows.length) return; // not on a plant: polygons and the map get the click
        e.stopPropagation();
        if (rows.length === 1) ctx.openEnterprise(rows[0]);
        else ctx.openPick(rows);
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
        var color = table.get(i, "color") || spec.style.color;
        if (!/^#[0-9a-fA-F]{3,8}$/.test(color)) color = spec.style.color;
        m._smColor = color;
        m.on("add", function (e) {
          var el = e.target.getElement();
          if (el) el.style.setProperty("--sm-color", e.target._smColor);
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

  /**
   * Place names (counties, county seats, built-up areas) as DOM text in a pane above every
   * symbol, placed greedily by rank so that no two overlap: a county's name first, then its
   * seat, then built-up areas from the largest. Re-placed after each zoom or pan.
   */
  var LabelLayer = L.Layer.extend({
    initialize: function (table, classes) {
      this._table = table;
      this._classes = classes;
      var order = [];
      for (var i = 0; i < table.n; i++) order.push(i);
      var rank = table.cols.rank;
      order.sort(function (a, b) {
        return rank[a] - rank[b];
      });
      this._order = order;
      this._widths = {};
    },
    onAdd: function (map) {
      var pane = map.getPane("smLabels") || map.createPane("smLabels");
      pane.style.zIndex = 640; // above the plants (450) and the heat sources (600)
      pane.style.pointerEvents = "none";
      this._container = L.DomUtil.create("div", "sm-labels", pane);
      map.on("zoomend moveend viewreset resize", this._update, this);
      map.on("zoomstart", this._hide, this);
      this._update();
    },
    onRemove: function (map) {
      map.off("zoomend moveend viewreset resize", this._update, this);
      map.off("zoomstart", this._hide, this);
      L.DomUtil.remove(this._container);
      this._container = null;
    },
    _hide: function () {
      if (this._container) this._container.style.display = "none";
    },
    _width: function (text, cls) {
      var key = cls.key + "\u0000" + text;
      if (this._widths[key] === undefined) {
        if (!this._measure) this._measure = document.createElement("canvas").getContext("2d");
        this._measure.font = cls.font;
        this._widths[key] = this._measure.measureText(text).width;
      }
      return this._widths[key];
    },
    /** The labels shown now: [{row, text}]. */
    shown: function () {
      return this._shown || [];
    },
    _update: function () {
      var box = this._container;
      if (!box) return;
      var map = this._map;
      var t = this._table;
      var zoom = map.getZoom();
      var size = map.getSize();
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      var placed = [];
      var shown = [];
      var frag = document.createDocumentFragment();
      for (var o = 0; o < this._order.length && shown.length < 400; o++) {
        var i = this._order[o];
        var cls = this._classes[t.cols.cls[i]];
        if (zoom < cls.minZoom) continue;
        var text = t.get(i, "text");
        if (!text) continue;
        var p = map.latLngToLayerPoint([t.cols.lat[i], t.cols.lon[i]]);
        var cx = p.x - topLeft.x;
        var cy = p.y - topLeft.y;
        if (cx < -50 || cy < -20 || cx > size.x + 50 || cy > size.y + 20) continue;
        var w = this._width(text, cls) + 6;
        var h = cls.size + 4;
        var x0 = cx - w / 2;
        var y0 = cls.dot ? cy - h - 2 : cy - h / 2;
        var hitbox = [x0, y0, x0 + w, y0 + h + (cls.dot ? 6 : 0)];
        var clash = false;
        for (var q = 0; q < placed.length; q++) {
          var b = placed[q];
          if (hitbox[0] < b[2] && hitbox[2] > b[0] && hitbox[1] < b[3] && hitbox[3] > b[1]) {
            clash = true;
            break;
          }
        }
        if (clash) continue;
        placed.push(hitbox);
        var el = document.createElement("div");
        el.className = "sm-label sm-label-" + cls.key;
        el.textContent = text;
        el.style.font = cls.font;
        el.style.color = cls.color;
        L.DomUtil.setPosition(el, L.point(p.x - w / 2, p.y - (cls.dot ? h + 2 : h / 2)));
        frag.appendChild(el);
        if (cls.dot) {
          var dot = document.createElement("div");
          dot.className = "sm-label-dot";
          L.DomUtil.setPosition(dot, L.point(p.x - 3, p.y - 3));
          frag.appendChild(dot);
        }
        shown.push({ row: i, text: text, cls: cls.key });
      }
      while (box.firstChild) box.removeChild(box.firstChild);
      box.appendChild(frag);
      box.style.display = "";
      this._shown = shown;
    },
  });

  function labelLayer(ctx, spec) {
    var table = new Table(readJson(spec.data));
    var layer = new LabelLayer(table, spec.classes);
    ctx.labels = layer;
    return [{ label: spec.label, layer: layer, count: table.n }];
  }

  var BUILDERS = {
    enterprises: enterpriseLayers,
    points: pointLayer,
    polygons: polygonLayer,
    labels: labelLayer,
  };

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
        L.DomEvent.on(li, "click", function (e) {
          // stopped here: once the list is emptied the item is out of the page, and the map
          // would take the click for its own (and close the popup just opened)
          L.DomEvent.stop(e);
          self.select(row);
        });
      });
      if (total === 0 || total > this._hits.length) {
        var note = L.DomUtil.create("li", "sm-search-note", list);
        note.textContent = total === 0 ? "未找到" : "共 " + total + " 家，仅列出前 " + this._hits.length + " 家";
      }
      return this._hits;
    },

    /** Show a plant and close the list (the query stays in the box). */
    select: function (row) {
      var list = this._list;
      while (list.firstChild) list.removeChild(list.firstChild);
      this._hits = [];
      this._input.blur();
      this._ctx.showEnterprise(row);
    },
  });

  function legendControl(ctx, sections) {
    var control = L.control({ position: "topright" });
    ctx.legendCounts = {};
    control.onAdd = function () {
      var outer = L.DomUtil.create("div", "sm-legend sm-box sm-panel");
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var box = L.DomUtil.create("details", "", outer);
      box.open = !ctx.config.compact;
      ctx.legendBox = box;
      var head = L.DomUtil.create("summary", "sm-panel-head sm-legend-head", box);
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
          if (typeof item.cat === "number") ctx.legendCounts[item.cat] = { span: text, label: item.label };
        });
      });
      return outer;
    };
    return control;
  }

  /**
   * Filter by county (a select) and by measure (one checkbox per category, the same layers as
   * in the layer control, so both stay in step); counts follow the county chosen.
   */
  function filterControl(ctx, spec) {
    var control = L.control({ position: "topright" });
    var t = ctx.enterprises.table;
    var plants = ctx.enterprises.plants;
    var map = ctx.map;
    control.onAdd = function () {
      var outer = L.DomUtil.create("div", "sm-filter sm-box sm-panel");
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var box = L.DomUtil.create("details", "", outer);
      box.open = false; // opened by its title
      L.DomUtil.create("summary", "sm-panel-head", box).textContent = "筛选（县、管控措施）";
      var counties = [];
      if (t.has("county")) {
        var seen = {};
        for (var i = 0; i < t.n; i++) {
          var c = t.get(i, "county");
          var key = c === null ? "" : String(c);
          seen[key] = (seen[key] || 0) + 1;
        }
        counties = Object.keys(seen).sort(function (a, b) {
          return a === "" ? 1 : b === "" ? -1 : a.localeCompare(b, "zh-CN");
        });
        var row = L.DomUtil.create("label", "sm-filter-row", box);
        L.DomUtil.create("span", "", row).textContent = "县（市、区）";
        var select = (ctx.countySelect = L.DomUtil.create("select", "sm-filter-county", row));
        var all = L.DomUtil.create("option", "", select);
        all.value = "*";
        all.textContent = "全部（" + t.n + "）";
        counties.forEach(function (name) {
          var opt = L.DomUtil.create("option", "", select);
          opt.value = name;
          opt.textContent = (name === "" ? "（未填县）" : name) + "（" + seen[name] + "）";
        });
        L.DomEvent.on(select, "change", function () {
          ctx.filterCounty(select.value === "*" ? null : select.value);
        });
      }
      L.DomUtil.create("div", "sm-filter-title", box).textContent = spec.title;
      ctx.measureBoxes = [];
      ctx.entries.forEach(function (e) {
        if (e.spec.kind !== "enterprises") return;
        var row = L.DomUtil.create("label", "sm-filter-measure", box);
        var input = L.DomUtil.create("input", "", row);
        input.type = "checkbox";
        input.checked = map.hasLayer(e.layer);
        var sw = L.DomUtil.create("span", "sm-swatch sm-swatch-dot", row);
        sw.style.backgroundColor = e.color;
        var text = L.DomUtil.create("span", "sm-filter-label", row);
        L.DomEvent.on(input, "change", function () {
          if (input.checked) map.addLayer(e.layer);
          else map.removeLayer(e.layer);
        });
        map.on("layeradd layerremove", function (ev) {
          if (ev.layer === e.layer) input.checked = ev.type === "layeradd";
        });
        ctx.measureBoxes.push({ entry: e, input: input, text: text });
      });
      ctx.updateCounts();
      return outer;
    };
    /** Only the plants of one county (null: all); zooms to it. */
    ctx.filterCounty = function (name) {
      if (name === null) {
        plants.setMask(null);
      } else {
        var mask = new Uint8Array(t.n);
        var west = 180, south = 90, east = -180, north = -90;
        for (var i = 0; i < t.n; i++) {
          var c = t.get(i, "county");
          if ((c === null ? "" : String(c)) === name) {
            mask[i] = 1;
            var x = t.cols.lon[i], y = t.cols.lat[i];
            if (x < west) west = x;
            if (x > east) east = x;
            if (y < south) south = y;
            if (y > north) north = y;
          }
        }
        plants.setMask(mask);
        var outline = ctx.countyBounds && ctx.countyBounds[name];
        var bounds = outline ? L.latLngBounds(outline) : west <= east ? L.latLngBounds([[south, west], [north, east]]) : null;
        if (bounds) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 13, animate: false });
      }
      map.closePopup();
      ctx.county = name;
      if (ctx.countySelect) ctx.countySelect.value = name === null ? "*" : name;
      ctx.updateCounts();
      return plants.counts();
    };
    return control;
  }

  function infoControl(cfg) {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var outer = L.DomUtil.create("div", "sm-info sm-box");
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var box = L.DomUtil.create("details", "", outer);
      // folded on a laptop screen (the title and the date stay visible), open on a tall one
      box.open = window.innerHeight >= 900;
      var title = L.DomUtil.create("summary", "sm-info-title", box);
      L.DomUtil.create("span", "", title).textContent = cfg.title;
      if (cfg.asOf) {
        L.DomUtil.create("span", "sm-info-asof", title).textContent = "筛查基准日：" + cfg.asOf;
      }
      if (cfg.documents && cfg.documents.length) {
        L.DomUtil.create("div", "sm-info-docs-title", box).textContent = "依据文件：";
        var docs = L.DomUtil.create("ol", "sm-info-docs", box);
        cfg.documents.forEach(function (doc) {
          L.DomUtil.create("li", "", docs).textContent = doc;
        });
      }
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
      return outer;
    };
    return control;
  }

  // ------------------------------------------------------------------------------------------
  // Printing: the map gets the size of an A4 landscape sheet (less the margins of the print
  // stylesheet) and shows the whole region, then goes back to the screen view.

  var PRINT_SIZE = [1046, 718]; // 277 mm x 190 mm in CSS pixels: A4 landscape less 10 mm margins

  function setupPrint(ctx) {
    var map = ctx.map;
    var saved = null;
    function before() {
      if (saved) return;
      var el = map.getContainer();
      saved = { center: map.getCenter(), zoom: map.getZoom(), style: el.getAttribute("style") };
      L.DomUtil.addClass(document.documentElement, "sm-printing");
      // the legend and the information box print unfolded
      saved.folded = Array.prototype.filter.call(
        document.querySelectorAll(".sm-legend details, .sm-info details"),
        function (d) {
          return !d.open;
        }
      );
      saved.folded.forEach(function (d) {
        d.open = true;
      });
      el.style.width = PRINT_SIZE[0] + "px";
      el.style.height = PRINT_SIZE[1] + "px";
      map.invalidateSize({ pan: false, animate: false });
      var bounds = ctx.county && ctx.countyBounds && ctx.countyBounds[ctx.county];
      bounds = bounds || ctx.config.regionBounds || ctx.config.bounds;
      if (bounds) map.fitBounds(bounds, { padding: [10, 10], animate: false });
      map.fire("moveend");
    }
    function after() {
      if (!saved) return;
      var el = map.getContainer();
      L.DomUtil.removeClass(document.documentElement, "sm-printing");
      saved.folded.forEach(function (d) {
        d.open = false;
      });
      if (saved.style === null) el.removeAttribute("style");
      else el.setAttribute("style", saved.style);
      map.invalidateSize({ pan: false, animate: false });
      map.setView(saved.center, saved.zoom, { animate: false });
      saved = null;
    }
    ctx.beforePrint = before;
    ctx.afterPrint = after;
    window.addEventListener("beforeprint", before);
    window.addEventListener("afterprint", after);
    if (window.matchMedia) {
      var mq = window.matchMedia("print");
      var onChange = function (e) {
        if (e.matches) before();
        else after();
      };
      if (mq.addEventListener) mq.addEventListener("change", onChange);
      else if (mq.addListener) mq.addListener(onChange);
    }
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
    // a short window (a laptop at 1366 x 768 less the browser's bars): legend starts folded
    cfg.compact = map.getSize().y < 560;
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
    /** A list of every plant at one spot (stacked or within a click's reach); pick one. */
    ctx.openPick = function (rows) {
      var t = ctx.enterprises.table;
      var cats = ctx.enterprises.spec.categories;
      var box = document.createElement("div");
      box.className = "sm-popup sm-pick";
      var head = L.DomUtil.create("div", "sm-popup-title", box);
      head.textContent = "此处有 " + rows.length + " 家企业，点击名称查看";
      var list = L.DomUtil.create("ul", "sm-pick-list", box);
      rows.forEach(function (row) {
        var li = L.DomUtil.create("li", "sm-pick-item", list);
        var sw = L.DomUtil.create("span", "sm-swatch sm-swatch-dot", li);
        sw.style.backgroundColor = cats[t.cols.cat[row]].color;
        var name = t.get(row, "name");
        var id = t.get(row, "id");
        L.DomUtil.create("span", "sm-pick-name", li).textContent =
          (name === null ? id || "企业" : name) + " · " + cats[t.cols.cat[row]].label;
        li._smRow = row;
        L.DomEvent.on(li, "click", function (e) {
          L.DomEvent.stop(e);
          ctx.openEnterprise(row);
        });
      });
      var popup = L.popup({ maxWidth: 380, offset: [0, -2] });
      popup._smRows = rows;
      return popup.setLatLng([t.cols.lat[rows[0]], t.cols.lon[rows[0]]]).setContent(box).openOn(map);
    };
    ctx.updateCounts = function () {
      if (!ctx.enterprises) return;
      var counts = ctx.enterprises.plants.counts();
      (ctx.measureBoxes || []).forEach(function (m, k) {
        m.text.textContent = m.entry.label + "（" + counts[k] + "）";
      });
      Object.keys(ctx.legendCounts || {}).forEach(function (k) {
        var item = ctx.legendCounts[k];
        item.span.textContent = item.label + "（" + counts[k] + "）";
      });
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
    var plantSpec = cfg.layers.filter(function (s) {
      return s.kind === "enterprises";
    })[0];
    if (plantSpec) filterControl(ctx, { title: plantSpec.filterTitle || "管控措施" }).addTo(map);
    legendControl(ctx, cfg.legend).addTo(map);
    infoControl(cfg).addTo(map);
    ctx.countyBounds = cfg.countyBounds || null;
    ctx.restack();
    setupPrint(ctx);

    markReady(ctx);
    return ctx;
  }

  global.SpatialMap = { build: build, esc: esc, formatValue: formatValue, popupHtml: popupHtml };
})(window);
