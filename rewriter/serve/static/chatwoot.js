/* The Chatwoot dashboard app. Chatwoot's frame (DashboardApp/Frame.vue) posts a JSON string
   {"event": "appContext", "data": {"conversation", "contact", "currentAgent"}} when the app
   loads and whenever the app posts "chatwoot-dashboard-app:fetch-info". Messages: message_type
   0 incoming (customer), 1 outgoing (agent), 2 activity, 3 template; `private` marks notes. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let thread = [];
  let conversationId = null;

  // Chatwoot's store holds message_type as a number; its API names them too. Either is read.
  const AUTHOR = { 0: "customer", incoming: "customer", 1: "agent", outgoing: "agent" };

  function toCase(data) {
    const conversation = (data && data.conversation) || {};
    const contact = (data && data.contact) || {};
    const sender = (conversation.meta && conversation.meta.sender) || {};
    const name = (contact.name || sender.name || "").trim();
    const messages = (conversation.messages || [])
      .filter((m) => m && !m.private && AUTHOR[m.message_type] !== undefined)
      .filter((m) => typeof m.content === "string" && m.content.trim())
      .sort((a, b) => (a.created_at || 0) - (b.created_at || 0));
    return {
      id: conversation.id != null ? "chatwoot-" + conversation.id : null,
      thread: messages.map((m) => {
        const message = { author: AUTHOR[m.message_type], text: m.content.trim() };
        if (message.author === "customer" && name) message.name = name;
        return message;
      }),
      name,
    };
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || typeof event.data !== "string") return;
    let payload;
    try { payload = JSON.parse(event.data); } catch (e) { return; }
    if (!payload || payload.event !== "appContext") return;
    const mapped = toCase(payload.data);
    thread = mapped.thread;
    conversationId = mapped.id;
    const customers = thread.filter((m) => m.author === "customer").length;
    $("context").textContent = thread.length
      ? "Переписка" + (mapped.name ? " с " + mapped.name : "") + ": " + thread.length +
        " сообщ. (от клиента: " + customers + ")."
      : "В переписке пока нет сообщений.";
  });

  function currentCase() {
    const data = { thread, draft: $("draft").value };
    if (conversationId) data.id = conversationId;
    return data;
  }

  function show(text, violations, meta) {
    H2H.marked($("result-text"), text, violations);
    H2H.violationList($("result-violations"), violations);
    $("result-meta").textContent = meta;
    $("result").hidden = false;
    $("copy").onclick = () => H2H.copy(text, $("copy"));
  }

  async function run(kind) {
    const data = currentCase();
    if (!data.draft.trim()) { $("status").textContent = "Напишите черновик."; $("draft").focus(); return; }
    for (const b of [$("rewrite"), $("check")]) b.disabled = true;
    $("status").textContent = kind === "rewrite" ? "Переписываю…" : "Проверяю…";
    try {
      if (kind === "rewrite") {
        const result = await H2H.api("/v1/rewrite", data);
        const blocked = result.violations.some((v) => v.severity === "block");
        show(result.text, result.violations,
          (blocked ? "Есть блокирующие нарушения" : "Можно отправлять") +
          (result.source === "llm" ? " · модель " + result.model : " · офлайн-движок"));
      } else {
        const result = await H2H.api("/v1/check", data);
        show(data.draft, result.violations, result.ok ? "Можно отправлять" : "Есть блокирующие нарушения");
      }
      $("status").textContent = "Готово.";
    } catch (error) {
      $("status").textContent = "Ошибка: " + error.message;
    } finally {
      for (const b of [$("rewrite"), $("check")]) b.disabled = false;
    }
  }

  function fetchInfo() {
    if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
  }

  $("rewrite").addEventListener("click", () => run("rewrite"));
  $("check").addEventListener("click", () => run("check"));
  $("refresh").addEventListener("click", fetchInfo);
  $("draft").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run("rewrite"); }
  });
  H2H.autosize($("draft"));
  H2H.setup();
  fetchInfo();
})();
