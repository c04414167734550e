// Drag-and-drop upload with a progress bar. The browser streams the file; the server streams
// it to storage, so large files never sit whole in memory on either side.
document.querySelectorAll("form[data-upload]").forEach((form) => {
  const input = form.querySelector("input[type=file]");
  const bar = form.querySelector(".progress");
  const fill = bar.querySelector("span");
  const status = form.querySelector(".upload-status");

  function send(file) {
    const data = new FormData(form);
    data.set("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    bar.hidden = false;
    status.textContent = `Uploading ${file.name}…`;
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) fill.style.width = `${(100 * event.loaded) / event.total}%`;
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: `Upload failed (HTTP ${xhr.status}).` }; }
      if (xhr.status === 200) {
        status.textContent = "Uploaded. Checking the file…";
        window.location = body.url;
      } else {
        bar.hidden = true;
        status.textContent = body.error;
        status.classList.add("error");
      }
    });
    xhr.addEventListener("error", () => { status.textContent = "The connection was lost during the upload."; status.classList.add("error"); });
    status.classList.remove("error");
    xhr.send(data);
  }

  input.addEventListener("change", () => input.files[0] && send(input.files[0]));
  ["dragenter", "dragover"].forEach((type) => form.addEventListener(type, (event) => { event.preventDefault(); form.classList.add("dragging"); }));
  ["dragleave", "drop"].forEach((type) => form.addEventListener(type, () => form.classList.remove("dragging")));
  form.addEventListener("drop", (event) => { event.preventDefault(); if (event.dataTransfer.files[0]) send(event.dataTransfer.files[0]); });
  form.addEventListener("submit", (event) => { event.preventDefault(); if (input.files[0]) send(input.files[0]); });
});
