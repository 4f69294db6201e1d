// An accessible choice step: a real <fieldset>/<legend> radio group (single) or checkbox
// group (multi) and a submit button. The model holds only the prompt and the choices' ids
// and texts; grading happens in the kernel, which then sends the feedback markup.
let counter = 0;

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "sq-root";
  el.appendChild(root);
  const uid = `sq-step-${++counter}`;
  let drawnToken = null;

  const text = (tag, className, value) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value;
    return node;
  };

  const build = () => {
    drawnToken = model.get("token");
    root.replaceChildren();
    if (!drawnToken) return;
    const labels = model.get("labels");
    const multi = model.get("kind") === "multi";
    const box = document.createElement("section");
    box.className = "sq-step";
    box.setAttribute("aria-labelledby", `${uid}-legend`);
    if (model.get("step_label")) box.appendChild(text("p", "sq-step-label", model.get("step_label")));
    const narrative = model.get("narrative");
    if (narrative) box.appendChild(text("p", "sq-narrative", narrative));

    const form = document.createElement("form");
    form.noValidate = true;
    const fieldset = document.createElement("fieldset");
    fieldset.setAttribute("aria-describedby", `${uid}-hint`);
    const legend = text("legend", "", model.get("prompt"));
    legend.id = `${uid}-legend`;
    fieldset.appendChild(legend);
    const hint = text("p", "sq-hint", multi ? labels.choose_many : labels.choose_one);
    hint.id = `${uid}-hint`;
    fieldset.appendChild(hint);
    model.get("choices").forEach((choice, index) => {
      const row = document.createElement("div");
      row.className = "sq-option";
      const input = document.createElement("input");
      input.type = multi ? "checkbox" : "radio";
      input.name = `${uid}-choice`;
      input.value = choice.id;
      input.id = `${uid}-c${index}`;
      const label = text("label", "", choice.text);
      label.htmlFor = input.id;
      row.append(input, label);
      fieldset.appendChild(row);
    });
    form.appendChild(fieldset);
    const error = text("p", "sq-step-error", "");
    error.id = `${uid}-error`;
    error.setAttribute("role", "alert");
    form.appendChild(error);
    const submit = text("button", "sq-primary", labels.submit);
    submit.type = "submit";
    form.appendChild(submit);
    box.appendChild(form);

    const feedback = document.createElement("div");
    feedback.className = "sq-feedback";
    feedback.setAttribute("aria-live", "polite");
    feedback.setAttribute("tabindex", "-1");
    feedback.setAttribute("aria-label", labels.feedback);
    box.appendChild(feedback);
    root.appendChild(box);

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (model.get("answered")) return;
      const chosen = [...form.querySelectorAll("input:checked")].map((i) => i.value);
      if (chosen.length === 0) {
        error.textContent = labels.choose_first;
        const firstInput = form.querySelector("input");
        if (firstInput) firstInput.focus();
        return;
      }
      error.textContent = "";
      submit.disabled = true;
      submit.textContent = labels.saving;
      model.send({ type: "submit", token: drawnToken, chosen });
    });
    feedback.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || button.disabled) return;
      event.preventDefault();
      button.disabled = true;
      model.send({ type: button.dataset.action, token: drawnToken });
    });
    update();
  };

  const update = () => {
    const form = root.querySelector("form");
    if (!form) return;
    const answered = model.get("answered");
    const submit = form.querySelector("button[type=submit]");
    const error = form.querySelector(".sq-step-error");
    const feedback = root.querySelector(".sq-feedback");
    form.querySelectorAll("input").forEach((input) => {
      input.disabled = answered;
      input.closest(".sq-option").classList.toggle("sq-disabled", answered);
    });
    error.textContent = model.get("error");
    if (answered) {
      submit.hidden = true;
      if (feedback.innerHTML !== model.get("feedback_html")) {
        // Markup rendered by the kernel with Jinja autoescaping.
        feedback.innerHTML = model.get("feedback_html");
        feedback.focus();
      }
    } else {
      submit.hidden = false;
      submit.disabled = false;
      submit.textContent = model.get("labels").submit;
      feedback.innerHTML = "";
      if (model.get("error")) form.querySelector("input")?.focus();
    }
  };

  const onChange = () => {
    if (model.get("token") !== drawnToken) {
      const hadStep = drawnToken !== null && drawnToken !== "";
      build();
      if (hadStep) {
        // A new step after "next": bring the learner to its beginning.
        const start = root.querySelector(".sq-narrative, legend");
        if (start) {
          start.setAttribute("tabindex", "-1");
          start.focus();
          start.scrollIntoView?.({ block: "start" });
        }
      }
    } else {
      update();
    }
  };
  model.on("change", onChange);
  build();
  return () => model.off("change", onChange);
}

export default { render };
