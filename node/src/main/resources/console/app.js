// The Sluice console: a few views over the admin API, routed by the URL's hash.
import { call, signedIn, signIn, signOut, ApiError } from "./api.js";
import { barChart } from "./chart.js";

const LIMITS = [
  ["requests_per_minute", "Requests / minute"],
  ["tokens_per_minute", "Tokens / minute"],
  ["tokens_per_day", "Tokens / day"],
  ["spend_usd_per_day", "Spend USD / day"],
  ["spend_usd_per_month", "Spend USD / month"],
  ["max_concurrent_requests", "Concurrent requests"],
];

/** Builds an element: h("td", {class: "x"}, "text", child...). Text is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const main = () => document.getElementById("main");

function showError(e) {
  const box = document.getElementById("error");
  if (!e) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = e instanceof ApiError ? e.message : "Something went wrong in the console: " + e.message;
  box.hidden = false;
  if (e instanceof ApiError && e.status === 401) {
    signOut();
    render();
  }
}

function fmtNum(n) {
  if (n === null || n === undefined) return "–";
  return Number(n).toLocaleString("en-US");
}

function fmtUsd(n) {
  if (n === null || n === undefined) return "–";
  const v = Number(n);
  return "$" + (v !== 0 && Math.abs(v) < 0.01 ? v.toPrecision(2) : v.toFixed(2));
}

function fmtTime(t) {
  return t ? new Date(t).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "–";
}

/** "used / limit" with a bar showing the fraction, or just "used" when unlimited. */
function meter(counter, format) {
  const used = counter ? Number(counter.used) : 0;
  const limit = counter && counter.limit !== null && counter.limit !== undefined ? Number(counter.limit) : null;
  if (limit === null) return h("span", { class: "meter unlimited" }, format(used));
  const frac = limit > 0 ? Math.min(1, used / limit) : 1;
  const level = frac >= 0.9 ? "high" : frac >= 0.7 ? "mid" : "low";
  const bar = h("progress", { max: 100, value: Math.round(frac * 100), class: level });
  return h("span", { class: "meter" }, bar, " ", format(used) + " / " + format(limit));
}

// ------------------------------------------------------------------ sign-in

function signInView() {
  const input = h("input", { type: "password", id: "admin-key", name: "admin-key", autocomplete: "current-password",
    required: true, autofocus: true, placeholder: "SLUICE_ADMIN_KEY" });
  const form = h("form", { class: "card narrow", id: "sign-in" },
    h("h1", {}, "Sign in"),
    h("label", { for: "admin-key" }, "Admin key"),
    input,
    h("p", { class: "hint" }, "The key stays in this browser tab only and is sent to this node's admin API."),
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    signIn(input.value);
    input.value = "";
    try {
      await call("GET", "/cluster");
      showError(null);
      if (!location.hash || location.hash === "#/") location.hash = "#/tenants";
      render();
    } catch (e) {
      signOut();
      showError(e);
    }
  });
  return form;
}

// ------------------------------------------------------------------ tenants

const listState = { search: "", cursors: [null] };

async function tenantsView() {
  const after = listState.cursors[listState.cursors.length - 1];
  const q = new URLSearchParams({ limit: "50" });
  if (listState.search) q.set("search", listState.search);
  if (after) q.set("after", after);
  const page = await call("GET", "/tenants?" + q);
  const search = h("input", { type: "search", id: "search", placeholder: "Search tenant ids", value: listState.search,
    "aria-label": "Search tenants" });
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      listState.search = search.value.trim();
      listState.cursors = [null];
      render().then(() => {
        const s = document.getElementById("search");
        if (s) { s.focus(); s.setSelectionRange(s.value.length, s.value.length); }
      });
    }, 250);
  });
  const rows = page.data.map((t) => h("tr", { "data-tenant": t.id },
    h("td", {}, h("a", { href: "#/tenants/" + encodeURIComponent(t.id) }, t.id)),
    h("td", {}, t.enabled ? "enabled" : h("span", { class: "bad" }, "disabled")),
    h("td", {}, meter(t.usage.windows.minute.requests, fmtNum)),
    h("td", {}, meter(t.usage.windows.minute.tokens, fmtNum)),
    h("td", {}, meter(t.usage.windows.day.tokens, fmtNum)),
    h("td", {}, meter(t.usage.windows.day.cost_usd, fmtUsd)),
    h("td", {}, meter(t.usage.windows.month.cost_usd, fmtUsd)),
    h("td", {}, meter(t.usage.concurrent_requests, fmtNum)),
    h("td", {}, t.circuits_open.length ? h("span", { class: "bad" }, t.circuits_open.join(", ")) : "none")));
  const prev = h("button", { type: "button", class: "secondary", disabled: listState.cursors.length <= 1,
    onclick: () => { listState.cursors.pop(); render(); } }, "Previous");
  const next = h("button", { type: "button", class: "secondary", disabled: !page.has_more,
    onclick: () => { listState.cursors.push(page.next_after); render(); } }, "Next");
  return h("section", {},
    h("div", { class: "row" },
      h("h1", {}, "Tenants"),
      h("span", { class: "count", id: "tenant-count" }, fmtNum(page.total) + (page.total === 1 ? " tenant" : " tenants")),
      search,
      h("a", { href: "#/tenants/new", class: "button", id: "new-tenant" }, "New tenant")),
    page.data.length === 0
      ? h("p", { class: "empty" }, listState.search ? "No tenant id contains “" + listState.search + "”." : "No tenants yet.")
      : h("table", { id: "tenants" },
        h("thead", {}, h("tr", {}, ["Tenant", "Status", "Requests / min", "Tokens / min", "Tokens / day",
          "Spend / day", "Spend / month", "Concurrent", "Open circuits"].map((c) => h("th", {}, c)))),
        h("tbody", {}, rows)),
    h("div", { class: "row pager" }, prev, next));
}

function limitFields(limits, legend) {
  return h("fieldset", {}, legend ? h("legend", {}, "Limits") : null,
    h("div", { class: "grid" }, LIMITS.map(([name, label]) => h("label", {}, label,
      h("input", { type: "number", min: "0", step: name.startsWith("spend") ? "0.01" : "1", name,
        value: limits && limits[name] !== undefined && limits[name] !== null ? limits[name] : "",
        placeholder: "unlimited" })))));
}

function readLimits(form) {
  const out = {};
  for (const [name] of LIMITS) {
    const v = form.elements[name].value.trim();
    if (v !== "") out[name] = Number(v);
  }
  return out;
}

function readModels(text) {
  const list = text.split(",").map((m) => m.trim()).filter((m) => m !== "");
  return list.length ? list : null;
}

function newTenantView() {
  const form = h("form", { class: "card", id: "new-tenant-form" },
    h("h1", {}, "New tenant"),
    h("label", {}, "Id", h("input", { name: "id", required: true, pattern: "[a-z0-9][a-z0-9_\\-]{0,62}",
      placeholder: "acme", autocomplete: "off" })),
    limitFields(null, true),
    h("label", {}, "Models", h("input", { name: "models", placeholder: "all models (or: gpt-4o-mini, …)" })),
    h("div", { class: "row" },
      h("button", { type: "submit", id: "create" }, "Create"),
      h("a", { href: "#/tenants", class: "button secondary" }, "Cancel")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const id = form.elements.id.value.trim();
    const body = { id, limits: readLimits(form) };
    const models = readModels(form.elements.models.value);
    if (models) body.models = models;
    try {
      await call("POST", "/tenants", body);
      showError(null);
      location.hash = "#/tenants/" + encodeURIComponent(id);
    } catch (e) {
      showError(e);
    }
  });
  return form;
}

// ------------------------------------------------------------------ one tenant

async function tenantView(id) {
  const path = "/tenants/" + encodeURIComponent(id);
  const [tenant, usage, keys, history, circuits] = await Promise.all([
    call("GET", path), call("GET", path + "/usage"), call("GET", path + "/keys"),
    call("GET", path + "/usage/history"), call("GET", path + "/circuits")]);

  const limitsForm = h("form", { class: "card", id: "limits-form" },
    h("h2", {}, "Limits and models"), limitFields(tenant.limits, false),
    h("label", {}, "Models", h("input", { name: "models", value: tenant.models ? tenant.models.join(", ") : "",
      placeholder: "all models" })),
    h("p", { class: "hint" }, "A limit left empty stays as it is; the admin API cannot remove a limit."),
    h("button", { type: "submit", id: "save-limits" }, "Save"));
  limitsForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await call("PATCH", path, { limits: readLimits(limitsForm), models: readModels(limitsForm.elements.models.value) });
      showError(null);
      flash("Saved.");
      render();
    } catch (e) {
      showError(e);
    }
  });

  const issued = h("div", { id: "issued", hidden: true });
  const issue = h("button", { type: "button", id: "issue-key", disabled: !tenant.enabled, onclick: async () => {
    try {
      const k = await call("POST", path + "/keys");
      showError(null);
      const value = h("code", { id: "new-key" }, k.key);
      const copy = h("button", { type: "button", id: "copy-key", class: "secondary", onclick: () => copyText(k.key, copy) }, "Copy");
      issued.replaceChildren(h("p", {}, "New key ", h("strong", {}, k.id),
        " — shown only now; copy it and give it to the tenant."), h("div", { class: "row" }, value, copy,
        h("button", { type: "button", class: "secondary", onclick: () => { issued.hidden = true; issued.replaceChildren(); render(); } }, "Done")));
      issued.hidden = false;
      await refreshKeys();
    } catch (e) {
      showError(e);
    }
  } }, "Issue key");
  const keyTable = h("tbody", {});
  const fillKeys = (list) => keyTable.replaceChildren(...list.data.map((k) => h("tr", { "data-key": k.id },
    h("td", {}, h("code", {}, k.id)), h("td", {}, fmtTime(k.created_at)),
    h("td", {}, k.active ? "active" : h("span", { class: "bad" }, "revoked " + fmtTime(k.revoked_at))),
    h("td", {}, k.active ? h("button", { type: "button", class: "danger", "data-revoke": k.id, onclick: async () => {
      try {
        await call("DELETE", path + "/keys/" + encodeURIComponent(k.id));
        showError(null);
        await refreshKeys();
      } catch (e) {
        showError(e);
      }
    } }, "Revoke") : ""))));
  const refreshKeys = async () => fillKeys(await call("GET", path + "/keys"));
  fillKeys(keys);

  const windows = Object.entries(usage.windows).map(([name, w]) => h("tr", { "data-window": name },
    h("th", {}, name), h("td", {}, meter(w.requests, fmtNum)), h("td", {}, meter(w.tokens, fmtNum)),
    h("td", {}, fmtNum(w.prompt_tokens.used) + " / " + fmtNum(w.completion_tokens.used)),
    h("td", {}, meter(w.cost_usd, fmtUsd)), h("td", {}, fmtTime(w.reset_at))));

  const starts = history.data.map((m) => m.start);
  const chart = h("div", { id: "usage-chart", class: "card" }, h("h2", {}, "Last hour"), h("div", { class: "charts" },
    barChart("Requests", history.data.map((m) => m.requests), starts, fmtNum),
    barChart("Tokens", history.data.map((m) => m.tokens), starts, fmtNum),
    barChart("Cost", history.data.map((m) => Number(m.cost_usd)), starts, fmtUsd)));

  // Disabling cannot be undone through the admin API, so it takes a second, confirming click.
  const disable = h("button", { type: "button", class: "danger", id: "disable-tenant", hidden: !tenant.enabled,
    onclick: async () => {
      if (disable.dataset.armed !== "yes") {
        disable.dataset.armed = "yes";
        disable.textContent = "Click again to disable: its keys stop working";
        return;
      }
      try {
        await call("DELETE", path);
        showError(null);
        render();
      } catch (e) {
        showError(e);
      }
    } }, "Disable tenant");

  return h("section", {},
    h("div", { class: "row" }, h("a", { href: "#/tenants" }, "← Tenants"), h("h1", { id: "tenant-id" }, tenant.id),
      tenant.enabled ? h("span", { class: "good" }, "enabled") : h("span", { class: "bad" }, "disabled"),
      h("span", { class: "hint" }, "created " + fmtTime(tenant.created_at)), disable),
    h("div", { class: "card", id: "usage" }, h("h2", {}, "Usage"),
      h("table", {}, h("thead", {}, h("tr", {}, ["Window", "Requests", "Tokens", "Prompt / completion", "Spend", "Resets"]
        .map((c) => h("th", {}, c)))), h("tbody", {}, windows)),
      h("p", {}, "Concurrent requests: ", meter(usage.concurrent_requests, fmtNum))),
    chart,
    h("div", { class: "card", id: "keys" }, h("div", { class: "row" }, h("h2", {}, "Keys"), issue), issued,
      h("table", {}, h("thead", {}, h("tr", {}, ["Key id", "Issued", "State", ""].map((c) => h("th", {}, c)))), keyTable)),
    limitsForm,
    h("div", { class: "card" }, h("h2", {}, "Circuits"),
      h("table", {}, h("thead", {}, h("tr", {}, ["Deployment", "Model", "State", "Open until", "Last error"].map((c) => h("th", {}, c)))),
        h("tbody", {}, circuits.data.map((c) => h("tr", {}, h("td", {}, c.deployment), h("td", {}, c.model),
          h("td", {}, c.status === "closed" ? c.status : h("span", { class: "bad" }, c.status)),
          h("td", {}, fmtTime(c.open_until)), h("td", {}, c.last_error ? c.last_status + " " + c.last_error : "–")))))));
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    // No clipboard API (a page served over plain http from another host): select it instead.
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("new-key"));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
    return;
  }
  button.textContent = "Copied";
}

function flash(text) {
  const f = h("div", { class: "flash", role: "status" }, text);
  document.body.appendChild(f);
  setTimeout(() => f.remove(), 2000);
}

// ------------------------------------------------------------------ deployments and cluster

async function deploymentsView() {
  const [deps, tenants] = await Promise.all([call("GET", "/deployments"), call("GET", "/tenants?limit=200")]);
  const open = tenants.data.filter((t) => t.circuits_open.length > 0);
  return h("section", {},
    h("h1", {}, "Deployments"),
    h("p", { class: "hint" }, "Health as this node sees it (each node ejects outliers on its own)."),
    h("table", { id: "deployments" },
      h("thead", {}, h("tr", {}, ["Deployment", "Health", "Failures in a row", "Failure rate", "Requests in window",
        "Ejections", "Ejected until", "In flight", "Latency"].map((c) => h("th", {}, c)))),
      h("tbody", {}, deps.data.map((d) => h("tr", { "data-deployment": d.name },
        h("td", {}, d.name),
        h("td", {}, h("span", { class: d.state === "closed" ? "good" : "bad" }, d.state === "closed" ? "healthy" : d.state.replace("_", " "))),
        h("td", {}, fmtNum(d.consecutive_failures)),
        h("td", {}, (d.failure_rate * 100).toFixed(1) + " %"),
        h("td", {}, fmtNum(d.requests_in_window)),
        h("td", {}, fmtNum(d.ejections)),
        h("td", {}, fmtTime(d.ejected_until)),
        h("td", {}, fmtNum(d.in_flight) + (d.max_concurrent_requests >= 2147483647 ? "" : " / " + fmtNum(d.max_concurrent_requests))),
        h("td", {}, d.latency_ms.toFixed(1) + " ms"))))),
    h("h2", {}, "Open circuits per tenant"),
    open.length === 0
      ? h("p", { class: "empty" }, "No tenant has an open circuit" + (tenants.has_more ? " among the first 200 tenants." : "."))
      : h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Tenant"), h("th", {}, "Deployments with an open circuit"))),
        h("tbody", {}, open.map((t) => h("tr", {}, h("td", {}, h("a", { href: "#/tenants/" + encodeURIComponent(t.id) }, t.id)),
          h("td", {}, t.circuits_open.join(", ")))))));
}

async function clusterView() {
  const c = await call("GET", "/cluster");
  const dcs = [...new Set(c.members.map((m) => m.data_center))];
  return h("section", {},
    h("h1", {}, "Cluster"),
    h("p", {}, "This node: ", h("code", {}, c.self), " · leader: ", h("code", {}, c.leader || "none"),
      " · regions (data centers): ", dcs.join(", ")),
    h("table", { id: "members" },
      h("thead", {}, h("tr", {}, ["Member", "Status", "Ready", "Region", "Roles", "Shards", "Tenants loaded"].map((x) => h("th", {}, x)))),
      h("tbody", {}, c.members.map((m) => {
        const hosted = c.shards[m.address];
        const ready = m.reachable && m.status === "up";
        return h("tr", {},
          h("td", {}, h("code", {}, m.address), m.address === c.self ? " (this node)" : ""),
          h("td", {}, m.status),
          h("td", {}, ready ? h("span", { class: "good" }, "ready") : h("span", { class: "bad" }, m.reachable ? "not up" : "unreachable")),
          h("td", {}, m.data_center),
          h("td", {}, m.roles.join(", ") || "–"),
          h("td", {}, hosted ? fmtNum(hosted.shards) : "–"),
          h("td", {}, hosted ? fmtNum(hosted.entities) : "–"));
      }))),
    c.regions_not_answering.length ? h("p", { class: "bad" }, "Not answering: " + c.regions_not_answering.join(", ")) : null);
}

// ------------------------------------------------------------------ routing

let rendering = 0;
let lastPage = null;

async function render() {
  const mine = ++rendering;
  const nav = document.getElementById("nav");
  const out = document.getElementById("sign-out");
  if (!signedIn()) {
    nav.hidden = true;
    out.hidden = true;
    main().replaceChildren(signInView());
    document.getElementById("admin-key").focus();
    return;
  }
  nav.hidden = false;
  out.hidden = false;
  const parts = (location.hash || "#/tenants").slice(2).split("/").map(decodeURIComponent);
  const view = parts[0] || "tenants";
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.view === view);
  let node;
  try {
    if (view === "tenants" && parts[1] === "new") node = newTenantView();
    else if (view === "tenants" && parts[1]) node = await tenantView(parts[1]);
    else if (view === "deployments") node = await deploymentsView();
    else if (view === "cluster") node = await clusterView();
    else node = await tenantsView();
  } catch (e) {
    if (mine !== rendering) return;
    showError(e);
    if (!signedIn()) return;
    node = h("p", { class: "empty" }, "This page could not be loaded.");
  }
  if (mine !== rendering) return; // a newer navigation won
  const page = view + "/" + (parts[1] || "");
  main().replaceChildren(node);
  if (page !== lastPage) window.scrollTo(0, 0);
  lastPage = page;
  document.body.dataset.view = view + (parts[1] ? "-" + (parts[1] === "new" ? "new" : "one") : "");
}

window.addEventListener("hashchange", () => {
  showError(null);
  for (const f of document.querySelectorAll(".flash")) f.remove();
  render();
});
document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  listState.search = "";
  listState.cursors = [null];
  location.hash = "";
  render();
});
render();
