// The agent's page: a token kept in this tab (sessionStorage), a search box, and the answer of
// GET /api/v1/trace drawn as a vertical timeline. Every text from the API goes into the page
// as text (textContent), never as HTML: a key or a file's content can never become markup.
"use strict";

const TOKEN_KEY = "recon.web.token";
const STATUS_CLASS = {
  "done": "s-done", "pending": "s-pending", "missing": "s-missing",
  "differs": "s-differs", "n/a": "s-na", "not available": "s-unavailable",
};
const FACTS = [  // the order number is the card's title
  ["borrower", "借款人"], ["loan", "借据/期"],
  ["lender", "资金方"], ["channel", "渠道"], ["amount", "金额"],
];
const KINDS = { order_no: "订单号", channel_txn_id: "渠道流水号", borrower_id: "借款人编号" };

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function yuan(text) {
  if (text === null || text === undefined) return "";
  const [whole, frac = "00"] = String(text).split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${digits}.${frac.padEnd(2, "0")} 元`;
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function showMessage(text, isError) {
  const box = $("message");
  box.hidden = !text;
  box.textContent = text || "";
  box.className = isError ? "error" : "";
}

function showLogin(reason) {
  $("login").hidden = false;
  $("search").hidden = true;
  $("who").textContent = "";
  if (reason) showMessage(reason, true);
  $("token").focus();
}

function showSearch() {
  $("login").hidden = true;
  $("search").hidden = false;
  $("who").textContent = "已保存令牌（仅本标签页）";
  $("key").focus();
}

async function lookup(key, date) {
  const query = new URLSearchParams({ key });
  if (date) query.set("date", date);
  const response = await fetch(`/api/v1/trace?${query}`, {
    headers: { "Authorization": `Bearer ${token()}`, "Accept": "application/json" },
    cache: "no-store",
  });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { status: response.status, body };
}

function hopItem(hop) {
  const cls = STATUS_CLASS[hop.status] || "s-na";
  const head = el("div", { class: "hop-head" },
    el("span", { class: "hop-name" }, hop.label_zh),
    el("span", { class: "badge" }, hop.status_zh),
    hop.date ? el("span", { class: "hop-meta" }, hop.date) : null,
    hop.amount !== null ? el("span", { class: "hop-meta amount" }, yuan(hop.amount)) : null,
    hop.ref ? el("span", { class: "hop-meta" }, hop.ref) : null,
  );
  const lines = [
    ...hop.detail.map((d) => el("li", null, d)),
    ...hop.exceptions.map((e) => el("li", { class: "flag" }, e)),
  ];
  if (hop.lineage && hop.lineage.length) {
    lines.push(el("li", { class: "lineage" }, "来源 " + hop.lineage.join(", ")));
  }
  return el("li", { class: `hop ${cls}`, "data-hop": hop.hop, "data-status": hop.status },
    head, lines.length ? el("ul", null, ...lines) : null);
}

function decisionCell(e) {
  if (!e.decision) return el("td", { class: "undecided" }, "尚未处理");
  const d = e.decision;
  const who = [d.by, d.at ? d.at.slice(0, 10) : null].filter(Boolean).join(" ");
  return el("td", { class: "decided" }, d.label || d.action,
    d.note ? el("div", { class: "hop-meta" }, d.note) : null,
    who ? el("div", { class: "hop-meta" }, who) : null);
}

function exceptionsTable(exceptions, finance) {
  if (!exceptions.length) return el("p", { class: "none" }, "报告日无相关异常。");
  const head = ["异常", "单号", "状态", "严重程度", "账龄", "建议处理", "财务处理结果"];
  if (finance) head.splice(5, 0, "涉及金额");
  const rows = exceptions.map((e) => {
    const cells = [
      el("td", null, e.label || e.exception_type, el("div", { class: "hop-meta" }, e.exception_type)),
      el("td", null, e.ref || ""),
      el("td", null, e.status_zh || e.status),
      el("td", null, e.severity_label || ""),
      el("td", null, e.age_days !== null ? `${e.age_days} 天` : ""),
      el("td", null, (e.action || "").split(" / ")[0]),
      decisionCell(e),
    ];
    if (finance) cells.splice(5, 0, el("td", { class: "amount" }, yuan(e.money_at_stake)));
    return el("tr", { "data-type": e.exception_type, "data-status": e.status }, ...cells);
  });
  return el("table", { class: "exceptions" },
    el("thead", null, el("tr", null, ...head.map((h) => el("th", null, h)))),
    el("tbody", null, ...rows));
}

function repaymentCard(r, finance) {
  const facts = FACTS.filter(([k]) => r.facts[k]).map(([k, name]) =>
    el("span", null, `${name} `, el("b", null, k === "amount" ? yuan(r.facts[k]) : r.facts[k])));
  return el("article", { class: "repayment", "data-order": r.order_no || "" },
    el("h2", null, r.order_no ? `订单 ${r.order_no}` : "渠道扣款（平台无订单）"),
    el("div", { class: "facts" }, ...facts),
    el("p", { class: "sentence" }, el("b", null, "可告知借款人："), r.sentence),
    r.notes.length ? el("p", { class: "notes" }, r.notes.join("；")) : null,
    el("h3", null, "资金路径"),
    el("ol", { class: "timeline" }, ...r.hops.map(hopItem)),
    el("p", { class: "where" }, r.where),
    el("h3", null, "相关异常与财务处理"),
    exceptionsTable(r.exceptions, finance),
  );
}

function render(body) {
  const results = $("results");
  results.replaceChildren();
  const kind = KINDS[body.kind] || body.kind;
  showMessage(`${kind} ${body.key}：报告日 ${body.report_date}，共 ${body.count} 笔还款` +
    `（${body.lookup.elapsed_ms} 毫秒）`, false);
  const finance = body.view === "finance";
  for (const r of body.repayments) results.append(repaymentCard(r, finance));
}

async function onSearch(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  const date = $("date").value;
  if (!key) return;
  $("results").replaceChildren();
  showMessage("查询中…", false);
  let answer;
  try {
    answer = await lookup(key, date);
  } catch (e) {
    showMessage("无法连接查询服务，请稍后再试。", true);
    return;
  }
  const { status, body } = answer;
  if (status === 200 && body) { render(body); return; }
  if (status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("令牌无效或已吊销，请重新输入。");
    return;
  }
  const text = {
    400: "查询内容格式不正确", 403: "当前角色无权查看", 404: "未查到", 429: "查询过于频繁，请稍后再试",
    503: "服务暂不可用，请稍后再试",
  }[status] || `查询失败（${status}）`;
  showMessage(`${text}：${body && body.message ? body.message : ""}`, true);
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    showMessage("", false);
    showSearch();
  });
  $("search-form").addEventListener("submit", onSearch);
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $("results").replaceChildren();
    showMessage("", false);
    showLogin();
  });
  if (token()) showSearch(); else showLogin();
});
