// report.html's filters: hide the issues (summary row and details) that do not pass
// them, and say how many are shown. The issues' data comes from the JSON block
// #quorum-data, parsed, never run; this script is the page's only code (its CSP hash).
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('quorum-data').textContent);
  var form = document.getElementById('filters');
  var shown = document.getElementById('shown');
  var none = document.getElementById('none-shown');
  var parts = data.issues.map(function () { return []; });
  document.querySelectorAll('[data-issue]').forEach(function (el) {
    var i = Number(el.getAttribute('data-issue'));
    if (parts[i]) { parts[i].push(el); }
  });

  function chosen() {
    return {
      severity: Number(form.elements.severity.value),
      agree: Number(form.elements.agree.value),
      model: form.elements.model.value,
      file: form.elements.file.value.trim()
    };
  }

  // Quorum's own checks have no agreement to filter on: they always pass it.
  function passes(issue, f) {
    return issue.severity >= f.severity &&
      (issue.agree === null || issue.agree >= f.agree) &&
      (f.model === '' || issue.models.indexOf(f.model) !== -1) &&
      (f.file === '' || issue.file.indexOf(f.file) !== -1);
  }

  function apply() {
    var f = chosen();
    var count = 0;
    data.issues.forEach(function (issue, i) {
      var visible = passes(issue, f);
      if (visible) { count += 1; }
      parts[i].forEach(function (el) { el.hidden = !visible; });
    });
    shown.textContent = count + ' of ' + data.issues.length + ' issues shown';
    none.hidden = count !== 0;
  }

  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  document.getElementById('clear-filters').addEventListener('click', function () {
    form.reset();
    apply();
  });
  form.hidden = false;
  apply();
}());
