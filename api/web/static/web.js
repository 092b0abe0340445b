// KPI Forge web pages: the only script. Uploads a CSV or .xlsx on the report page with a progress bar
// (XMLHttpRequest upload events) and swaps in the results the server rendered. Everything else
// works without it; what needs it (class "needs-js") shows only once it has run.
"use strict";

document.documentElement.classList.add("js");

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
        if (value && key !== "data" && key !== "csv") { params.append(key, value); }
      });
    }
    var query = params.toString();
    return form.getAttribute("action").split("?")[0] + (query ? "?" + query : "");
  }

  function focusResults() {
    var heading = document.getElementById("results-h");
    if (heading) { heading.focus(); }
  }

  // No page came back (a problem+json answer such as 429, or no answer at all): say so in place.
  function fail(lines) {
    var old = document.getElementById("results");
    if (!old) { return; }
    var section = document.createElement("section");
    section.id = "results";
    section.setAttribute("aria-live", "polite");
    section.setAttribute("aria-labelledby", "results-h");
    var heading = document.createElement("h2");
    heading.id = "results-h";
    heading.tabIndex = -1;
    heading.textContent = form.getAttribute("data-failed");
    var box = document.createElement("div");
    box.className = "problem";
    box.setAttribute("role", "alert");
    box.setAttribute("data-problem", "client");
    lines.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;  // text only: nothing from the answer becomes markup
      box.appendChild(p);
    });
    section.appendChild(heading);
    section.appendChild(box);
    old.replaceWith(section);
    focusResults();
  }

  function problemLines(xhr) {
    var lines = [String(xhr.status) + " " + (xhr.statusText || "")];
    try {
      var problem = JSON.parse(xhr.responseText);
      if (problem && problem.title) { lines = [problem.title + " (" + xhr.status + ")"]; }
      if (problem && problem.detail) { lines.push(String(problem.detail)); }
    } catch (ignored) { /* not JSON: the status says enough */ }
    return lines;
  }

  function show(xhr) {
    var kind = xhr.getResponseHeader("Content-Type") || "";
    var fresh = null;
    if (kind.indexOf("text/html") === 0) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      fresh = doc.getElementById("results");
    }
    var old = document.getElementById("results");
    if (!fresh || !old) { fail(problemLines(xhr)); return; }
    old.replaceWith(document.importNode(fresh, true));
    focusResults();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!file.files || !file.files.length) { file.focus(); return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", target());
    var xlsx = /\.xlsx$/i.test(file.files[0].name);  // a workbook: its first sheet is read
    xhr.setRequestHeader(
      "Content-Type",
      xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv"
    );
    xhr.setRequestHeader("X-KPI-Results", "1");  // errors come back as a page to show, with status 200
    progress.hidden = false;
    progress.value = 0;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      progress.value = 100;
      progress.hidden = true;
      show(xhr);
    });
    xhr.addEventListener("error", function () {
      progress.hidden = true;
      fail([form.getAttribute("data-network")]);
    });
    xhr.send(file.files[0]);
  });
})();
