// Map of the results listed on the page. Places closer than a marker's size at the current
// zoom share one marker (so every marker is a large enough target), whose popup links to each
// listing there. Only this page loads Leaflet and tiles; without JavaScript the list is the page.
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  box.hidden = false;
  document.getElementById("map-note").textContent = box.dataset.note;
  var map = L.map(box, { scrollWheelZoom: false });
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution }).addTo(map);
  }
  var places = [];
  document.querySelectorAll("#places > li[data-lat]").forEach(function (item) {
    var link = item.querySelector("h3 a");
    places.push({
      at: L.latLng(parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)),
      href: link.getAttribute("href"),
      name: link.textContent
    });
  });
  var layer = L.layerGroup().addTo(map);

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

  function popup(group) {
    var list = document.createElement("ul");
    group.places.forEach(function (place) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = place.href;
      link.textContent = place.name;
      item.appendChild(link);
      list.appendChild(item);
    });
    return list;
  }

  function draw() {
    layer.clearLayers();
    groups().forEach(function (group) {
      var names = group.places.map(function (place) { return place.name; }).join(", ");
      var options = { title: names, alt: names };
      if (group.places.length > 1) {
        options.title = box.dataset.several.replace("%(count)s", group.places.length) + ": " + names;
        options.icon = L.divIcon({
          className: "cluster", html: String(group.places.length), iconSize: [36, 36]
        });
      }
      L.marker(group.places[0].at, options).bindPopup(popup(group)).addTo(layer);
    });
  }

  var bounds = places.map(function (place) { return place.at; });
  var here = box.dataset.here.split(",").map(parseFloat);
  if (!isNaN(here[0])) bounds.push(L.latLng(here[0], here[1]));
  if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  else map.setView([39.8, -98.6], 4);
  map.on("zoomend", draw);
  draw();
})();
