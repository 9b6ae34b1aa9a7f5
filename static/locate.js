// "Use my location": fills the place field with the browser's position, rounded to about
// 100 metres, and searches at once (one tap, issue #11): nothing is sent until the person
// allows it; without JavaScript or permission, typing a ZIP code works the same.
(function () {
  "use strict";
  var row = document.querySelector(".locate");
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  var field = document.getElementById("q");
  if (!row || !navigator.geolocation) return;
  row.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.finding;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var c = position.coords;
        field.value = c.latitude.toFixed(3) + ", " + c.longitude.toFixed(3);
        status.textContent = button.dataset.found;
        // Let the status be announced, then search.
        window.setTimeout(function () { field.form.requestSubmit(); }, 300);
      },
      function () {
        status.textContent = button.dataset.denied;
        field.focus();
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 }
    );
  });
})();
