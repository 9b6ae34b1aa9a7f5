// Map of the results listed on the page: one marker per place, each linking to its listing.
// Only this page loads Leaflet and map tiles; without JavaScript the list is the whole page.
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  var places = document.querySelectorAll("#places > li[data-lat]");
  box.hidden = false;
  document.getElementById("map-note").textContent = box.dataset.note;
  var map = L.map(box, { scrollWheelZoom: false });
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution }).addTo(map);
  }
  var bounds = [];
  places.forEach(function (place) {
    var at = [parseFloat(place.dataset.lat), parseFloat(place.dataset.lon)];
    var title = place.querySelector("h3 a");
    var marker = L.marker(at, { title: title.textContent, alt: title.textContent }).addTo(map);
    var link = document.createElement("a");
    link.href = title.getAttribute("href");
    link.textContent = title.textContent;
    marker.bindPopup(link);
    bounds.push(at);
  });
  var here = box.dataset.here.split(",").map(parseFloat);
  if (!isNaN(here[0])) bounds.push(here);
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView([39.8, -98.6], 4);
  }
})();
