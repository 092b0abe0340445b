// KPI Forge web pages: the only script. Uploads a CSV on the report page with a progress bar
// (XMLHttpRequest upload events) and swaps in the results the server rendered. Everything else
// works without it.
"use strict";

(function () {
  var form = document.getElementById("upload");
  if (!form) { return; }
  var file = document.getElementById("file");
  var progress = document.getElementById("progress");
  var options = document.getElementById("options");

  function target() {
    var params = new URLSearchParams();
    if (options) {
      new FormData(options).forEach(function (value, key) {
        if (value && key !== "data") { params.append(key, value); }
      });
    }
    var query = params.toString();
    return form.getAttribute("action").split("?")[0] + (query ? "?" + query : "");
  }

  function show(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("results");
    var old = document.getElementById("results");
    if (fresh && old) {
      old.replaceWith(document.importNode(fresh, true));
      var heading = document.getElementById("results-h");
      if (heading) { heading.focus(); }
    }
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.value === "paste") { return; }  // a plain form post
    event.preventDefault();
    if (!file.files || !file.files.length) { file.focus(); return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", target());
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.setRequestHeader("X-KPI-Results", "1");  // errors come back as a page to show, with status 200
    progress.hidden = false;
    progress.value = 0;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      progress.value = 100;
      progress.hidden = true;
      show(xhr.responseText);
    });
    xhr.addEventListener("error", function () { progress.hidden = true; });
    xhr.send(file.files[0]);
  });
})();
