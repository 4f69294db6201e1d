// A screen whose markup comes from the kernel (rendered by Jinja with autoescaping).
// Buttons with data-action and forms with data-action send their action back; the kernel
// decides everything. After a redraw, focus moves to the element marked data-autofocus.
function render({ model, el }) {
  // The first screen may already be on the page as HTML (first_paint.py): this view then
  // draws there, where the learner may already be typing, and sends what first_paint.js held.
  const painted = document.querySelector("[data-sq-first-paint]");
  let root;
  if (painted) {
    painted.removeAttribute("data-sq-first-paint"); // taken: first_paint.js stops holding
    root = painted.querySelector(".sq-root");
  } else {
    root = document.createElement("div");
    root.className = "sq-root";
    el.appendChild(root);
  }
  let first = true;

  const send = (target) => {
    if (target.tagName === "FORM") {
      const fields = {};
      new FormData(target).forEach((value, key) => {
        fields[key] = String(value);
      });
      model.send({ action: target.dataset.action, fields });
    } else {
      model.send({ action: target.dataset.action, arg: target.dataset.arg || "" });
    }
  };

  const meta = () => {
    document.documentElement.lang = model.get("lang") || "fi";
    if (model.get("title")) document.title = model.get("title");
  };

  const draw = () => {
    meta();
    if (first && painted) {
      first = false; // the same markup is already drawn, perhaps with typed text in it
      return;
    }
    if (root.parentElement !== el) {
      // The painted screen is being replaced anyway: from now on draw in the widget's place.
      el.appendChild(root);
      painted.remove();
    }
    root.innerHTML = model.get("html");
    const target = root.querySelector("[data-autofocus]");
    // No focus move on the first paint: the learner has not done anything yet.
    if (target && !first) {
      if (!target.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
      if (target.scrollIntoView) target.scrollIntoView({ block: "nearest" });
    }
    first = false;
  };

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !root.contains(button) || button.disabled) return;
    event.preventDefault();
    send(button);
  });
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.action) return;
    event.preventDefault();
    send(form);
  });

  model.on("change:html", draw);
  model.on("change:lang change:title", meta);
  draw();
  if (painted) {
    const held = window.sqHeld || [];
    window.sqHeld = [];
    held.forEach(send);
  }
  return () => {
    model.off("change:html", draw);
    model.off("change:lang change:title", meta);
    if (painted) painted.remove();
  };
}

export default { render };
