// The first screen drawn as HTML before its widget (first_paint.py). Until screen.js takes it
// over, a press of an action button or a form submission is held, not lost, and a form never
// submits itself as a page load.
(() => {
  const painted = document.querySelector("[data-sq-first-paint]");
  if (!painted) return;
  // Look as the widget will: without the notebook styles of an HTML output (list indents,
  // link underlines), which somequiz.css does not expect.
  const output = painted.parentElement && painted.parentElement.closest(".jp-RenderedHTMLCommon");
  if (output) output.classList.remove("jp-RenderedHTMLCommon");
  const held = (window.sqHeld = window.sqHeld || []);
  const hold = (event) => {
    if (!painted.hasAttribute("data-sq-first-paint")) return; // screen.js has it now
    const target =
      event.type === "submit" ? event.target : event.target.closest("button[data-action]");
    if (!target || !target.dataset || !target.dataset.action) return;
    event.preventDefault();
    held.push(target);
  };
  painted.addEventListener("click", hold);
  painted.addEventListener("submit", hold);
})();
