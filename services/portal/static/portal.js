// The portal's one script, a progressive enhancement: everything works without it.
// A link with data-copy copies the post (text, disclosure line and link) to the clipboard
// before it opens a network's composer that takes no text, and says so; the disclosure is
// not lost on the way.
"use strict";
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-copy]");
  if (!link) return;
  event.preventDefault();
  const source = document.querySelector(link.dataset.copy);
  const status = document.querySelector(link.dataset.status);
  let copied = false;
  try {
    await navigator.clipboard.writeText(source.value);
    copied = true;
  } catch (error) {
    source.focus();
    source.select();
  }
  if (status) status.textContent = copied ? link.dataset.copied : link.dataset.copyFailed;
  link.dataset.copiedDone = copied ? "yes" : "no";
  if (copied) window.open(link.href, "_blank", "noopener,noreferrer");
});
