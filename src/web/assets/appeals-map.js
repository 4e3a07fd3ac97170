// appeals-map.js - the appeals map, for people whose browser runs scripts.
//
// The pages work without it: the list below the map holds the same appeals.
// Each element with data-module="app-appeals-map" becomes a Leaflet map:
// - with data-geojson, the appeals of that GeoJSON feed, clustered when
//   many, loaded again for the area in view whenever the map moves, with a
//   link to the list of that area;
// - with data-lat and data-lon, one appeal's public point (and, for a grid
//   precision, the cell it stands for); a click on it fills the answer
//   form's latitude and longitude.
// Tiles come from data-tiles (a URL template, or "none"), credited with
// data-attribution, which is text, never markup.
(function () {
  'use strict';

  var L = window.L;
  if (!L || !document.querySelectorAll) return;

  var GREAT_BRITAIN = [[49.9, -8.2], [60.9, 1.8]];

  function text(s) {
    var div = document.createElement('div');
    div.textContent = s;
    return div.innerHTML;
  }

  function makeMap(el, label) {
    el.setAttribute('role', 'region');
    el.setAttribute('aria-label', label);
    var map = L.map(el, { scrollWheelZoom: false, maxZoom: 19 });
    var tiles = el.getAttribute('data-tiles');
    if (tiles && tiles !== 'none') {
      L.tileLayer(tiles, {
        maxZoom: 19,
        attribution: text(el.getAttribute('data-attribution') || ''),
      }).addTo(map);
    }
    return map;
  }

  function popup(props) {
    var box = document.createElement('div');
    var link = document.createElement('a');
    link.className = 'govuk-link';
    link.href = props.url;
    link.textContent = props.title;
    var who = document.createElement('p');
    who.textContent = props.organisation;
    box.appendChild(link);
    box.appendChild(who);
    return box;
  }

  // The feed's address with the area in view instead of any area it had.
  function feedFor(base, bounds) {
    var url = new URL(base, window.location.href);
    url.searchParams.delete('near');
    url.searchParams.delete('radius');
    url.searchParams.delete('cursor');
    var west = Math.max(-180, bounds.getWest());
    var east = Math.min(180, bounds.getEast());
    if (west > east) { west = -180; east = 180; }
    url.searchParams.set('bbox', [west, Math.max(-90, bounds.getSouth()), east,
      Math.min(90, bounds.getNorth())].map(function (v) { return v.toFixed(5); }).join(','));
    return url;
  }

  function listMap(el) {
    var map = makeMap(el, 'Map of the appeals listed below');
    var base = el.getAttribute('data-geojson');
    var cluster = L.markerClusterGroup();
    map.addLayer(cluster);
    var status = document.createElement('p');
    status.className = 'govuk-body app-appeals-map__status';
    status.setAttribute('aria-live', 'polite');
    var here = document.createElement('a');
    here.className = 'govuk-link';
    here.textContent = 'List the appeals in the area shown on the map';
    el.parentNode.insertBefore(status, el.nextSibling);
    el.parentNode.insertBefore(here, status.nextSibling);
    var latest = 0;

    function show(data, fit) {
      cluster.clearLayers();
      var layer = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          return L.marker(latlng, { alt: feature.properties.title });
        },
        onEachFeature: function (feature, marker) {
          marker.bindPopup(popup(feature.properties));
        },
      });
      cluster.addLayers(layer.getLayers());
      var n = data.features.length;
      status.textContent = n === 1 ? '1 appeal on the map' : n + ' appeals on the map';
      el.setAttribute('data-markers', String(n));
      if (fit) {
        if (n) map.fitBounds(layer.getBounds(), { maxZoom: 14, padding: [20, 20] });
        else map.fitBounds(GREAT_BRITAIN);
      }
    }

    function load(url, fit) {
      var ticket = ++latest;
      return fetch(url, { headers: { Accept: 'application/geo+json' } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(r.status)); })
        .then(function (data) { if (ticket === latest) show(data, fit); })
        .catch(function () { status.textContent = 'The map could not load the appeals.'; });
    }

    var ready = false;
    map.on('moveend', function () {
      var list = new URL('/appeals', window.location.href);
      var feed = feedFor(base, map.getBounds());
      feed.searchParams.forEach(function (v, k) { if (k !== 'limit') list.searchParams.set(k, v); });
      here.href = list.pathname + list.search;
      if (ready) load(feed, false);
    });
    map.fitBounds(GREAT_BRITAIN);
    load(base, true).then(function () { ready = true; });
  }

  function pointMap(el) {
    var lat = parseFloat(el.getAttribute('data-lat'));
    var lon = parseFloat(el.getAttribute('data-lon'));
    var cell = parseInt(el.getAttribute('data-cell'), 10) || 0;
    var map = makeMap(el, 'Map of where this happened');
    var marker = L.marker([lat, lon], { alt: el.getAttribute('data-title') || 'The appeal' });
    marker.addTo(map);
    el.setAttribute('data-markers', '1');
    if (cell > 0) {
      // The public point stands for a whole cell of the grid.
      L.circle([lat, lon], { radius: cell * 0.71, weight: 1 }).addTo(map);
      map.setView([lat, lon], cell > 2000 ? 11 : 14);
    } else {
      map.setView([lat, lon], 15);
    }
    var latField = document.getElementById('lat');
    var lonField = document.getElementById('lon');
    if (!latField || !lonField) return;
    var mine = null;
    map.on('click', function (e) {
      latField.value = e.latlng.lat.toFixed(5);
      lonField.value = e.latlng.lng.toFixed(5);
      if (mine) mine.setLatLng(e.latlng);
      else mine = L.circleMarker(e.latlng, { radius: 8 }).addTo(map);
    });
  }

  var maps = document.querySelectorAll('[data-module="app-appeals-map"]');
  for (var i = 0; i < maps.length; i++) {
    if (maps[i].hasAttribute('data-geojson')) listMap(maps[i]);
    else if (maps[i].hasAttribute('data-lat')) pointMap(maps[i]);
  }
})();
