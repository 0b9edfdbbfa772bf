// Small behaviours for pages that need them; no inline scripts (the CSP forbids them).
"use strict";

// Put the value of the field `id` on the clipboard; true when it got there.
async function copyField(id) {
  const field = document.getElementById(id);
  if (!field) {
    return false;
  }
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    // No clipboard API (not a secure context) or no permission: the older way still works
    // in most browsers, from the click that got us here.
    field.select();
    return document.execCommand("copy");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  // Print buttons stay hidden without JavaScript: there is nothing they could do.
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }

  // Copy buttons (data-copy="ID of the field"), hidden without JavaScript like Print.
  for (const button of document.querySelectorAll("[data-copy]")) {
    const id = button.dataset.copy;
    const status = document.querySelector(`[data-copy-status="${CSS.escape(id)}"]`);
    button.hidden = false;
    button.addEventListener("click", async () => {
      const copied = await copyField(id);
      if (status) {
        status.textContent = copied ? "Copied." : "Select the text and copy it.";
      }
    });
  }
});
