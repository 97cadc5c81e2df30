/* The playground: a thread, a draft and facts in; the rewrite, its violations, a diff out. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const examples = JSON.parse($("h2h-examples").textContent || "[]");
  const AUTHORS = { customer: "Клиент", agent: "Агент" };

  function addMessage(author, text, name) {
    const index = $("thread").children.length + 1;
    const id = "msg-" + Date.now() + "-" + index;
    const item = H2H.el("li", { class: "message " + author, "data-author": author });
    if (name) item.dataset.name = name;
    const label = H2H.el("label", { for: id }, AUTHORS[author] + (name ? " (" + name + ")" : ""));
    const area = H2H.el("textarea", { id, rows: "2" });
    area.value = text || "";
    const remove = H2H.el("button", { type: "button", class: "small link", "aria-label": "Удалить сообщение: " + AUTHORS[author] }, "×");
    remove.addEventListener("click", () => item.remove());
    item.append(label, remove, area);
    $("thread").append(item);
    H2H.autosize(area);
    return area;
  }

  function load(example) {
    $("thread").textContent = "";
    for (const m of example.thread || []) addMessage(m.author, m.text, m.name);
    $("facts").value = (example.facts || []).join("\n");
    $("draft").value = example.draft || "";
    fitters.forEach((fit) => fit());
    $("own").value = "";
    $("result").hidden = true;
    $("own-result").hidden = true;
    $("empty").hidden = false;
  }

  function currentCase() {
    const thread = [];
    for (const item of $("thread").children) {
      const text = item.querySelector("textarea").value.trim();
      if (!text) continue;
      const message = { author: item.dataset.author, text };
      if (item.dataset.name) message.name = item.dataset.name;
      thread.push(message);
    }
    const facts = $("facts").value.split("\n").map((s) => s.trim()).filter(Boolean);
    const selected = examples[Number($("example").value)];
    const data = { thread, facts, draft: $("draft").value };
    if ($("example").value !== "" && selected && selected.id) data.id = selected.id;
    return data;
  }

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function rewrite() {
    const data = currentCase();
    if (!data.draft.trim()) {
      status("Напишите черновик.", true);
      $("draft").focus();
      return;
    }
    $("rewrite").disabled = true;
    status("Переписываю…");
    try {
      const [result, draftCheck] = await Promise.all([
        H2H.api("/v1/rewrite", data),
        H2H.api("/v1/check", data),
      ]);
      const engine = result.source === "llm" ? "модель " + result.model : "офлайн-движок";
      $("result-meta").textContent =
        (result.violations.some((v) => v.severity === "block") ? "Есть блокирующие нарушения · " : "Можно отправлять · ") +
        engine + (result.errors.length ? " · ответ модели не использован" : "");
      H2H.marked($("result-text"), result.text, result.violations);
      H2H.violationList($("result-violations"), result.violations);
      H2H.diff($("diff"), data.draft, result.text);
      H2H.marked($("draft-marked"), data.draft, draftCheck.violations);
      H2H.violationList($("draft-violations"), draftCheck.violations);
      $("result").hidden = false;
      $("empty").hidden = true;
      $("copy").onclick = () => H2H.copy(result.text, $("copy"));
      status("Готово.");
      $("result-text").focus();
    } catch (error) {
      status("Ошибка: " + error.message, true);
    } finally {
      $("rewrite").disabled = false;
    }
  }

  async function checkOwn() {
    const reply = $("own").value;
    if (!reply.trim()) { $("own").focus(); return; }
    const data = currentCase();
    data.reply = reply;
    if (!data.draft.trim()) delete data.draft;
    $("check-own").disabled = true;
    try {
      const result = await H2H.api("/v1/check", data);
      $("own-verdict").textContent = result.ok ? "Можно отправлять." : "Отправлять нельзя: есть блокирующие нарушения.";
      $("own-verdict").className = "verdict " + (result.ok ? "ok" : "bad");
      H2H.marked($("own-marked"), reply, result.violations);
      H2H.violationList($("own-violations"), result.violations);
      $("own-result").hidden = false;
    } catch (error) {
      $("own-verdict").textContent = "Ошибка: " + error.message;
      $("own-verdict").className = "verdict bad";
      $("own-result").hidden = false;
    } finally {
      $("check-own").disabled = false;
    }
  }

  const fitters = ["facts", "draft", "own"].map((id) => H2H.autosize($(id)));
  examples.forEach((example, i) => {
    $("example").append(H2H.el("option", { value: String(i) }, example.id || "пример " + (i + 1)));
  });
  $("example").addEventListener("change", () => {
    const example = examples[Number($("example").value)];
    if ($("example").value !== "" && example) load(example);
  });
  $("add-customer").addEventListener("click", () => addMessage("customer", "").focus());
  $("add-agent").addEventListener("click", () => addMessage("agent", "").focus());
  $("rewrite").addEventListener("click", rewrite);
  $("check-own").addEventListener("click", checkOwn);
  for (const id of ["draft", "own"]) {
    $(id).addEventListener("keydown", (event) => {  // Ctrl/Cmd+Enter runs the field's action
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        (id === "draft" ? rewrite : checkOwn)();
      }
    });
  }
  H2H.setup();
  if (!$("thread").children.length) addMessage("customer", "");
})();
