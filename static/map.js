// Map of the places listed beside it (issue #11). Each marker carries its list number; places
// closer than a marker's size at the current zoom share one round marker (so every marker is a
// large enough target), named by what it holds ("3 meetings at Trinity Church") and whose popup
// links to each listing with its number. A red ring marks the searched place. The first view fits
// this search's places and the searched place. Only this page loads Leaflet and tiles; without
// JavaScript the list is the page.
(function () {
  "use strict";
  var box = document.getElementById("map");
  var source = document.getElementById("map-data");
  if (!box || !source || !window.L) return;
  var data = JSON.parse(source.textContent);
  var words = data.words;
  box.hidden = false;
  document.getElementById("map-help").hidden = false;
  document.getElementById("map-note").textContent = box.dataset.note;
  var map = L.map(box, { scrollWheelZoom: false });
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution }).addTo(map);
  }
  var places = data.places.map(function (place) {
    return Object.assign({ at: L.latLng(place.lat, place.lon) }, place);
  });
  var layer = L.layerGroup().addTo(map);
  var opener = null; // the marker whose popup is open, to give focus back to

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (slot, name) {
      return name in values ? String(values[name]) : slot;
    });
  }

  function groups() {
    var found = [];
    places.forEach(function (place) {
      var point = map.latLngToLayerPoint(place.at);
      var near = found.find(function (group) {
        return Math.abs(group.point.x - point.x) < 40 && Math.abs(group.point.y - point.y) < 44;
      });
      if (near) near.places.push(place);
      else found.push({ point: point, places: [place] });
    });
    return found;
  }

  function nameOf(group) {
    var first = group.places[0];
    if (group.places.length === 1) {
      return fill(words.one, { number: first.n, name: first.name, place: first.place });
    }
    var oneSpot = group.places.every(function (place) { return place.place === first.place; });
    var meetings = group.places.every(function (place) { return place.meeting; });
    var key = (meetings ? "meetings" : "listings") + (oneSpot ? "_at" : "_near");
    var numbers = group.places.map(function (place) { return place.n; }).join(", ");
    return fill(words[key], { count: group.places.length, place: first.place }) +
      " (" + fill(words.numbers, { numbers: numbers }) + ")";
  }

  function popup(group) {
    var list = document.createElement("ol");
    list.className = "map-popup";
    group.places.forEach(function (place) {
      var item = document.createElement("li");
      item.value = place.n;
      var link = document.createElement("a");
      link.href = place.href;
      link.textContent = place.name;
      item.appendChild(link);
      list.appendChild(item);
    });
    return list;
  }

  function icon(group) {
    if (group.places.length === 1) {
      return L.divIcon({ className: "pin", html: String(group.places[0].n), iconSize: [32, 32] });
    }
    return L.divIcon({
      className: "cluster", html: String(group.places.length), iconSize: [36, 36]
    });
  }

  function draw() {
    layer.clearLayers();
    groups().forEach(function (group) {
      var name = nameOf(group);
      var marker = L.marker(group.places[0].at, { icon: icon(group), title: name, riseOnHover: true });
      marker.bindPopup(popup(group), {
        maxHeight: Math.max(120, box.clientHeight - 96),
        maxWidth: Math.min(300, box.clientWidth - 96),
        autoPanPadding: [16, 16]
      });
      marker.on("popupopen", function () { opener = marker; });
      marker.addTo(layer);
      marker.getElement().setAttribute("aria-label", name);
    });
  }

  // The searched place: a red ring drawn as SVG (not a marker: it is no place to choose, and
  // it is not in the keyboard's way), named for screen readers.
  function youAreHere(here) {
    var label = fill(words.here, { place: here.label });
    var ring = L.circleMarker([here.lat, here.lon], {
      radius: 10, color: "#b00020", weight: 5, fillColor: "#fff", fillOpacity: 1,
      interactive: false, className: "here"
    }).addTo(map);
    ring.bringToBack();
    var path = ring.getElement();
    path.setAttribute("role", "img");
    path.setAttribute("aria-label", label);
    var title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = label;
    path.appendChild(title);
  }

  function inside(inner, outer) {
    return inner.top >= outer.top && inner.left >= outer.left &&
      inner.bottom <= outer.bottom && inner.right <= outer.right;
  }

  // Focus moves into an opened popup only once it is wholly in view: the popup first pans the
  // map to fit, then the page scrolls (never the map's own box) to show it. A link is never
  // focused while clipped (WCAG 2.4.11).
  function focusInto(element) {
    var rect = element.getBoundingClientRect();
    if (!inside(rect, box.getBoundingClientRect())) return;
    if (rect.bottom > window.innerHeight) window.scrollBy(0, rect.bottom - window.innerHeight + 8);
    if (rect.top < 0) window.scrollBy(0, rect.top - 8);
    rect = element.getBoundingClientRect();
    var screen = { top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth };
    var link = element.querySelector("a");
    if (link && inside(rect, screen)) link.focus({ preventScroll: true });
  }

  map.on("popupopen", function (event) {
    var element = event.popup.getElement();
    if (inside(element.getBoundingClientRect(), box.getBoundingClientRect())) focusInto(element);
    else map.once("moveend", function () { focusInto(element); });
  });
  map.on("popupclose", function (event) {
    var element = event.popup.getElement();
    if (opener && element && element.contains(document.activeElement)) {
      var back = opener.getElement();
      if (back) back.focus({ preventScroll: true });
    }
  });
  // Escape closes an open popup from wherever focus is in the map, and focus returns to its
  // marker (Leaflet only listens while the map itself has focus).
  box.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !opener || !opener.isPopupOpen()) return;
    var back = opener && opener.getElement();
    map.closePopup();
    if (back) back.focus({ preventScroll: true });
    event.stopPropagation();
  });

  var bounds = places.map(function (place) { return place.at; });
  if (data.here) bounds.push(L.latLng(data.here.lat, data.here.lon));
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  else if (bounds.length) map.setView(bounds[0], 13);
  else map.setView([39.8, -98.6], 4);
  if (data.here) youAreHere(data.here);
  map.on("zoomend", draw);
  draw();
})();
