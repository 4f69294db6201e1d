// A screen whose markup comes from the kernel (rendered by Jinja with autoescaping).
// Buttons with data-action and forms with data-action send their action back; the kernel
// decides everything. After a redraw, focus moves to the element marked data-autofocus.
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "sq-root";
  el.appendChild(root);
  let first = true;

  const draw = () => {
    root.innerHTML = model.get("html");
    const lang = model.get("lang");
    if (lang) document.documentElement.lang = lang;
    const title = model.get("title");
    if (title) document.title = title;
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
    model.send({ action: button.dataset.action, arg: button.dataset.arg || "" });
  });
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.action) return;
    event.preventDefault();
    const fields = {};
    new FormData(form).forEach((value, key) => {
      fields[key] = String(value);
    });
    model.send({ action: form.dataset.action, fields });
  });

  const meta = () => {
    document.documentElement.lang = model.get("lang") || "fi";
    if (model.get("title")) document.title = model.get("title");
  };
  model.on("change:html", draw);
  model.on("change:lang change:title", meta);
  draw();
  return () => {
    model.off("change:html", draw);
    model.off("change:lang change:title", meta);
  };
}

export default { render };
