// newsdex search page: reads the state from the URL, asks /api/search or /api/doc/{id}, draws the
// answer. Every value from the index is put into the page as text (textContent, never innerHTML):
// article titles and bodies are whatever the scraped pages held.
"use strict";

const ENTITY_KINDS = ["person", "org", "location"];
const FACET_TITLES = { person: "People", org: "Organisations", location: "Places", source: "Sources", language: "Languages" };
const FILTER_KEY = { person: "person", org: "org", location: "location", source: "source", language: "lang" };
const SINGLE = new Set(["source", "lang"]);
const PAGE_SIZE = 20;
// Characters and words that are operators in other search engines, and words here (README, "Search").
const NOT_OPERATORS = /[*:()~^\\{}\[\]]|\bNEAR\b/;

let current = null; // the request being answered, so a slow answer to an older one is dropped

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function state() {
  return new URLSearchParams(location.search);
}

function href(params) {
  const clean = new URLSearchParams();
  for (const [key, value] of params) if (value !== "") clean.append(key, value);
  const text = clean.toString();
  return "/" + (text ? "?" + text : "");
}

function go(params, replace) {
  const url = href(params);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

function withChange(change) {
  const params = state();
  params.delete("doc");
  params.delete("page");
  change(params);
  return params;
}

function link(params, text, extra) {
  const a = el("a", { href: href(params), ...(extra || {}) }, text);
  a.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    go(params);
  });
  return a;
}

function showMessage(text) {
  const box = document.getElementById("message");
  box.textContent = text || "";
  box.hidden = !text;
}

async function fetchJson(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (err) {
    throw new Error("newsdex web does not answer (is it still running?)");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) throw new Error((body && body.error) || `the server answered ${response.status}`);
  return body;
}

// A snippet marks the matched words with [ and ] (connectors/hits.py): draw them as <mark>.
function snippet(text) {
  const out = el("p", { class: "snippet" });
  const parts = String(text || "").split(/(\[[^\[\]]*\])/);
  for (const part of parts) {
    if (part.startsWith("[") && part.endsWith("]") && part.length > 2) out.append(el("mark", {}, part.slice(1, -1)));
    else if (part) out.append(part);
  }
  return out;
}

function day(value) {
  return value ? String(value).slice(0, 10) : "undated";
}

function render() {
  const params = state();
  document.getElementById("q").value = params.get("q") || "";
  document.getElementById("dups").checked = params.get("dups") === "1";
  showMessage("");
  if (params.get("doc")) return renderDoc(params);
  return renderSearch(params);
}

async function renderSearch(params) {
  document.getElementById("search-view").hidden = false;
  document.getElementById("doc-view").hidden = true;
  drawChips(params);
  const query = params.get("q") || "";
  const notice = document.getElementById("notice");
  notice.hidden = true;
  if (query.length > 500) {
    showMessage(`The query is ${query.length} characters long; at most 500, please.`);
    return;
  }
  const api = new URLSearchParams(params);
  if (!api.get("size")) api.set("size", String(PAGE_SIZE));
  const token = (current = {});
  document.body.classList.add("loading");
  // A timeline shows the months around its own range: its bars come from the same search without
  // that range (no hits asked), so another month can still be picked or shift-clicked.
  const without = (keys) => {
    const p = new URLSearchParams(api);
    for (const key of [...keys, "page"]) p.delete(key);
    p.set("size", "0");
    return "/api/search?" + p.toString();
  };
  let result;
  let published;
  let mentioned;
  try {
    [result, published, mentioned] = await Promise.all([
      fetchJson("/api/search?" + api.toString()),
      params.get("from") || params.get("to") ? fetchJson(without(["from", "to"])) : null,
      params.get("mfrom") || params.get("mto") ? fetchJson(without(["mfrom", "mto"])) : null,
    ]);
  } catch (err) {
    if (token !== current) return;
    document.body.classList.remove("loading");
    showMessage(err.message);
    for (const id of ["results", "facets", "timelines", "pager"]) document.getElementById(id).replaceChildren();
    document.getElementById("summary").textContent = "";
    return;
  }
  if (token !== current) return;
  document.body.classList.remove("loading");
  const notes = [];
  if (!query.trim()) notes.push("No words to search for: the newest articles first.");
  if (NOT_OPERATORS.test(query)) notes.push("* : ( ) ~ and NEAR are not operators here; they were searched as plain words (or ignored). Use \"quotes\" for a phrase, OR, and -word.");
  notice.textContent = notes.join(" ");
  notice.hidden = !notes.length;
  drawResults(params, result);
  drawFacets(params, result.facets);
  drawTimelines(params, {
    month: (published || result).facets.month,
    mentioned: (mentioned || result).facets.mentioned,
  });
  drawPager(params, result.total);
}

function drawResults(params, result) {
  const size = Number(params.get("size")) || PAGE_SIZE;
  const page = Number(params.get("page")) || 1;
  const first = (page - 1) * size + 1;
  const summary = document.getElementById("summary");
  summary.textContent = result.total
    ? `${result.total} article${result.total === 1 ? "" : "s"}` + (result.total > size ? `, ${first}–${Math.min(first + result.hits.length - 1, result.total)} shown` : "")
    : "No articles match. Remove a filter or try other words.";
  const list = document.getElementById("results");
  list.replaceChildren();
  list.start = first;
  for (const hit of result.hits) {
    const open = new URLSearchParams(params);
    open.set("doc", hit.id);
    const meta = el("div", { class: "meta" },
      el("span", { class: "source" }, hit.source_domain || "unknown source"),
      el("time", {}, day(hit.published_at)),
      hit.language ? el("span", { class: "lang" }, hit.language) : null,
      hit.copies ? el("span", { class: "copies" }, `+${hit.copies} cop${hit.copies === 1 ? "y" : "ies"}`) : null,
      hit.duplicate_of ? el("span", { class: "copy-of" }, "copy") : null,
      hit.score !== null && hit.score !== undefined ? el("span", { class: "score" }, `${Math.round(hit.score * 100)}%`) : null,
    );
    list.append(el("li", { class: "hit", "data-id": hit.id },
      el("h2", {}, link(open, hit.title || "(no title)", { class: "title" })),
      meta,
      snippet(hit.snippet),
    ));
  }
}

function drawChips(params) {
  const chips = document.getElementById("chips");
  chips.replaceChildren();
  const add = (label, remove) => {
    const target = withChange(remove);
    chips.append(el("span", { class: "chip" }, label, " ", link(target, "×", { class: "remove", title: "remove this filter", "aria-label": `remove ${label}` })));
  };
  for (const kind of [...ENTITY_KINDS, "source", "lang", "story"]) {
    for (const value of params.getAll(kind)) {
      add(`${kind}: ${value}`, (p) => {
        const rest = p.getAll(kind).filter((v) => v !== value);
        p.delete(kind);
        for (const v of rest) p.append(kind, v);
      });
    }
  }
  if (params.get("from") || params.get("to")) {
    add(`published ${params.get("from") || "…"} – ${params.get("to") || "…"}`, (p) => { p.delete("from"); p.delete("to"); });
  }
  if (params.get("mfrom") || params.get("mto")) {
    add(`mentions ${params.get("mfrom") || "…"} – ${params.get("mto") || "…"}`, (p) => { p.delete("mfrom"); p.delete("mto"); });
  }
  chips.hidden = !chips.childElementCount;
}

function drawFacets(params, facets) {
  const box = document.getElementById("facets");
  box.replaceChildren();
  for (const name of ["person", "org", "location", "source", "language"]) {
    const values = facets[name] || [];
    const key = FILTER_KEY[name];
    const chosen = new Set(params.getAll(key).map((v) => v.toLowerCase()));
    const list = el("ul", {});
    for (const [value, count] of values) {
      const on = chosen.has(String(value).toLowerCase());
      const target = withChange((p) => {
        if (SINGLE.has(key)) p.set(key, value);
        else if (!on) p.append(key, value);
      });
      list.append(el("li", {}, link(target, value, { class: on ? "facet on" : "facet", "data-facet": name, "data-value": value }), el("span", { class: "count" }, count)));
    }
    box.append(el("section", { class: "facet-group", "data-facet": name }, el("h3", {}, FACET_TITLES[name]), values.length ? list : el("p", { class: "none" }, "none")));
  }
}

// A histogram of months (newest first from the API): bars in time order; a click picks a month,
// a shift-click stretches the picked range to that month; the fields below take any days.
function drawTimelines(params, facets) {
  const box = document.getElementById("timelines");
  box.replaceChildren();
  box.append(timeline(params, facets.month || [], "from", "to", "Published", "month"));
  box.append(timeline(params, facets.mentioned || [], "mfrom", "mto", "Dates mentioned", "mentioned"));
  // Long histograms scroll; they open on their newest months.
  for (const bars of box.querySelectorAll(".bars")) bars.scrollLeft = bars.scrollWidth;
}

function timeline(params, buckets, fromKey, toKey, title, name) {
  const months = [...buckets].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const peak = Math.max(1, ...months.map((b) => b[1]));
  const from = params.get(fromKey) || "";
  const to = params.get(toKey) || "";
  const bars = el("div", { class: "bars", role: "list" });
  for (const [month, count] of months) {
    const picked = (!from || month >= from.slice(0, 7)) && (!to || month <= to.slice(0, 7)) && (from || to);
    const bar = el("button", {
      type: "button", class: picked ? "bar on" : "bar", role: "listitem", "data-month": month,
      title: `${month}: ${count} article${count === 1 ? "" : "s"}`, "aria-label": `${month}: ${count}`,
    }, el("span", { class: "fill", style: null }));
    bar.firstChild.style.height = `${Math.max(4, Math.round((count / peak) * 100))}%`;
    bar.addEventListener("click", (event) => {
      go(withChange((p) => {
        let start = month;
        let end = month;
        if (event.shiftKey && (from || to)) {
          start = [from.slice(0, 7) || month, month].sort()[0];
          end = [to.slice(0, 7) || month, month].sort()[1];
        }
        p.set(fromKey, start);
        p.set(toKey, end);
      }));
    });
    bars.append(bar);
  }
  const form = el("form", { class: "range" });
  const fromInput = el("input", { name: fromKey, value: from, placeholder: "from YYYY-MM-DD", size: 12, maxlength: 10, "aria-label": `${title} from` });
  const toInput = el("input", { name: toKey, value: to, placeholder: "to YYYY-MM-DD", size: 12, maxlength: 10, "aria-label": `${title} to` });
  form.append(fromInput, " – ", toInput, el("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withChange((p) => { p.set(fromKey, fromInput.value.trim()); p.set(toKey, toInput.value.trim()); }));
  });
  const range = months.length ? `${months[0][0]} … ${months[months.length - 1][0]}` : "no dates";
  return el("section", { class: "timeline", "data-facet": name },
    el("h3", {}, title, " ", el("span", { class: "range-label" }, range)),
    months.length ? bars : el("p", { class: "none" }, "no dates in these articles"),
    form);
}

function drawPager(params, total) {
  const size = Number(params.get("size")) || PAGE_SIZE;
  const page = Number(params.get("page")) || 1;
  const pages = Math.max(1, Math.ceil(Math.min(total, 10000) / size));
  const pager = document.getElementById("pager");
  pager.replaceChildren();
  if (pages <= 1) return;
  const to = (n) => { const p = new URLSearchParams(params); p.set("page", String(n)); return p; };
  if (page > 1) pager.append(link(to(page - 1), "‹ previous", { rel: "prev", class: "prev" }));
  pager.append(el("span", { class: "page" }, ` page ${page} of ${pages} `));
  if (page < pages) pager.append(link(to(page + 1), "next ›", { rel: "next", class: "next" }));
}

async function renderDoc(params) {
  document.getElementById("search-view").hidden = true;
  document.getElementById("chips").hidden = true;
  document.getElementById("notice").hidden = true;
  const view = document.getElementById("doc-view");
  view.hidden = false;
  view.replaceChildren();
  const back = new URLSearchParams(params);
  back.delete("doc");
  const token = (current = {});
  let answer;
  try {
    answer = await fetchJson("/api/doc/" + encodeURIComponent(params.get("doc")));
  } catch (err) {
    if (token !== current) return;
    showMessage(err.message);
    view.append(link(back, "← back to the results", { class: "back" }));
    return;
  }
  if (token !== current) return;
  const doc = answer.document;
  const rows = [
    ["Source", doc.source_domain], ["Publisher", doc.publisher], ["Authors", (doc.authors || []).join(", ")],
    ["Published", doc.published_at], ["Modified", doc.modified_at], ["Language", doc.language],
    ["Dates mentioned", (doc.mentioned_dates || []).join(", ")], ["Id", doc.id],
  ];
  const meta = el("dl", { class: "doc-meta" });
  for (const [name, value] of rows) if (value) meta.append(el("dt", {}, name), el("dd", {}, value));
  if (doc.story_id) {
    const story = new URLSearchParams();
    story.set("story", doc.story_id);
    meta.append(el("dt", {}, "Story"), el("dd", {}, link(story, "every article of this story", { class: "story" })));
  }
  const url = doc.canonical_url || doc.url;
  if (url) {
    meta.append(el("dt", {}, "Original"), el("dd", {}, /^https?:\/\//i.test(url)
      ? el("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank", class: "original" }, url)
      : url));
  }
  const entities = el("div", { class: "doc-entities" });
  for (const kind of ["person", "org", "location", "misc"]) {
    const names = (doc.entities || {})[kind] || [];
    if (!names.length) continue;
    const list = el("ul", {});
    for (const name of names) {
      const target = new URLSearchParams();
      if (kind !== "misc") target.append(kind, name);
      list.append(el("li", {}, kind === "misc" ? el("span", { class: `entity ${kind}` }, name) : link(target, name, { class: `entity ${kind}` })));
    }
    entities.append(el("section", {}, el("h3", {}, FACET_TITLES[kind] || "Other names"), list));
  }
  const related = el("section", { class: "related" });
  if (answer.copy_of) {
    related.append(el("h3", {}, "A copy of"), relatedList(params, [answer.copy_of]));
  }
  if (answer.copies && answer.copies.length) {
    related.append(el("h3", {}, `Copies (${answer.copies.length})`), relatedList(params, answer.copies));
  }
  const shared = new Map((answer.shared || []).map((hit) => [hit.id, hit]));
  if (shared.size) {
    related.append(el("h3", {}, `Shares passages with (${shared.size})`), relatedList(params, [...shared.values()]));
  }
  view.append(
    el("p", {}, link(back, "← back to the results", { class: "back" })),
    el("article", { class: "doc" },
      el("h1", { class: "doc-title" }, doc.title || "(no title)"),
      doc.description ? el("p", { class: "description" }, doc.description) : null,
      meta,
      highlighted(doc.body || "", doc.entities || {}, doc.shared_passages || []),
      sharedPassages(params, doc.shared_passages || [], shared),
    ),
    el("aside", { class: "doc-side" }, entities, related),
  );
  document.title = `${doc.title || doc.id} — newsdex`;
}

function relatedList(params, hits) {
  const list = el("ul", {});
  for (const hit of hits) {
    const p = new URLSearchParams(params);
    p.set("doc", hit.id);
    list.append(el("li", {}, link(p, hit.title || hit.id), " ", el("span", { class: "source" }, hit.source_domain || ""), " ", el("time", {}, day(hit.published_at))));
  }
  return list;
}

// The passages this document shares with other documents (not its copies): each quoted, marked, with
// links to the other documents; a passage is marked in the body too where it stands there as written.
function sharedPassages(params, passages, hits) {
  if (!passages.length) return null;
  const box = el("section", { class: "shared-passages" }, el("h2", {}, `Shared passages (${passages.length})`));
  for (const passage of passages) {
    const links = el("ul", {});
    for (const id of passage.documents || []) {
      const p = new URLSearchParams(params);
      p.set("doc", id);
      const hit = hits.get(id) || {};
      links.append(el("li", {}, link(p, hit.title || id, { class: "shared-doc", "data-id": id }), " ", el("span", { class: "source" }, hit.source_domain || "")));
    }
    box.append(el("blockquote", { class: "shared-passage" }, el("mark", { class: "shared" }, passage.text), el("p", { class: "also-in" }, "Also in:"), links));
  }
  return box;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The body, paragraph by paragraph, with the document's entity names marked where they occur
// (whole words, longest name first; a person's surname alone too, as articles name people again),
// and the passages it shares with other documents marked where they stand as written.
function highlighted(body, entities, passages) {
  const kindOf = new Map();
  for (const kind of ["person", "org", "location", "misc"]) {
    for (const name of entities[kind] || []) {
      if (name && !kindOf.has(name)) kindOf.set(name, kind);
      const parts = String(name).split(/\s+/);
      const last = parts[parts.length - 1];
      if (kind === "person" && parts.length > 1 && last.length > 3 && !kindOf.has(last)) kindOf.set(last, kind);
    }
  }
  const names = [...kindOf.keys()].sort((a, b) => b.length - a.length);
  const pattern = names.length ? new RegExp(`(?<![\\p{L}\\p{N}])(${names.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}])`, "gu") : null;
  const markNames = (target, text) => {
    let at = 0;
    if (pattern) {
      for (const match of text.matchAll(pattern)) {
        target.append(text.slice(at, match.index));
        const kind = kindOf.get(match[1]);
        target.append(el("mark", { class: `entity ${kind}`, "data-kind": kind, title: kind }, match[1]));
        at = match.index + match[1].length;
      }
    }
    target.append(text.slice(at));
  };
  const longest = [...(passages || [])].sort((a, b) => b.text.length - a.text.length);
  const out = el("div", { class: "doc-body" });
  for (const paragraph of body.split(/\n\s*\n/)) {
    if (!paragraph.trim()) continue;
    const p = el("p", {});
    const passage = longest.find((x) => paragraph.includes(x.text));
    if (passage) {
      const at = paragraph.indexOf(passage.text);
      const shared = el("mark", { class: "shared", title: `also in ${(passage.documents || []).length} other document(s)` });
      markNames(p, paragraph.slice(0, at));
      markNames(shared, passage.text);
      p.append(shared);
      markNames(p, paragraph.slice(at + passage.text.length));
    } else {
      markNames(p, paragraph);
    }
    out.append(p);
  }
  return out;
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    go(withChange((p) => p.set("q", document.getElementById("q").value)));
  });
  document.getElementById("dups").addEventListener("change", (event) => {
    go(withChange((p) => (event.target.checked ? p.set("dups", "1") : p.delete("dups"))));
  });
  window.addEventListener("popstate", render);
  render();
});
