// Saving the inbox's filters as a view (templates/_views.html).
(function () {
  "use strict";

  // "Save view" saves the filters now in the address bar (htmx keeps it current).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-save-view]")) return;
    var field = form.querySelector("[data-view-query]");
    if (field) field.value = window.location.search.replace(/^\?/, "");
  }, true);

})();
