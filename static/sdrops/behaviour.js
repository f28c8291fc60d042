// Small behaviours the admin templates used to write as inline handlers (onclick=…,
// onchange=…): the Content-Security-Policy allows scripts from 'self' only.
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-history-back]");
  if (link) {
    event.preventDefault();
    history.back();
  }
});
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
