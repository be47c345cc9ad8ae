// A progress bar for forms marked data-progress (large CSV files): the upload's progress, then
// "checking" while the server reads every row. Without JavaScript the form still posts normally.
document.querySelectorAll("form[data-progress]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    const area = form.querySelector(".progress-area");
    const bar = area && area.querySelector("progress");
    if (!bar || !window.XMLHttpRequest) return;
    event.preventDefault();
    area.hidden = false;
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    const request = new XMLHttpRequest();
    request.open(form.method, form.action);
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    request.upload.addEventListener("load", () => { bar.removeAttribute("value"); });  // now: checking rows
    request.addEventListener("load", () => {
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", () => {
      area.hidden = true;
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      alert("The upload did not reach the school's server. Check the connection and try again.");
    });
    request.send(new FormData(form));
  });
});
