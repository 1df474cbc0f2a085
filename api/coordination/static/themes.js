/* Passerelles, page de la coordination : le vocabulaire des thèmes (les paires peut-être en
   double, à confirmer ; la fusion d'un thème dans un autre, après l'aperçu des documents touchés). */
(() => {
  "use strict";
  const { key, request, el, onKey } = window.PasserellesCoordination;
  const $ = (id) => document.getElementById(id);
  let planned = null; // {source, target} of the preview shown

  function message(text, kind) {
    const box = $("themes-message");
    box.hidden = !text;
    box.className = "message " + (kind || "");
    box.textContent = text || "";
  }

  function plural(count, word) {
    return `${count} ${word}${count > 1 ? "s" : ""}`;
  }

  async function loadThemes() {
    if (!key()) return;
    const result = await request("coordination/themes");
    const list = $("themes-suggestions");
    list.replaceChildren();
    if (!result.ok) {
      if (result.status !== 403) message(result.data.detail, "error");
      $("themes").hidden = result.status === 403;
      return;
    }
    $("themes").hidden = false;
    const known = $("t-known");
    known.replaceChildren(...result.data.themes.map((row) => el("option", { value: row.theme }, row.label)));
    if (!result.data.suggestions.length) list.appendChild(el("li", {}, "Aucune paire de thèmes voisins."));
    for (const pair of result.data.suggestions) {
      const item = el("li");
      item.append(
        el("span", {}, `«\u00a0${pair.source}\u00a0» (${plural(pair.source_documents, "document")}) dans «\u00a0${pair.target}\u00a0» (${plural(pair.target_documents, "document")}) : ${pair.reason}. `),
      );
      const choose = el("button", { type: "button" }, "Préparer cette fusion");
      choose.setAttribute("aria-label", `Préparer la fusion de «\u00a0${pair.source}\u00a0» dans «\u00a0${pair.target}\u00a0»`);
      choose.addEventListener("click", () => {
        $("t-source").value = pair.source;
        $("t-target").value = pair.target;
        preview();
      });
      item.appendChild(choose);
      list.appendChild(item);
    }
  }

  async function preview() {
    const body = { source: $("t-source").value.trim(), target: $("t-target").value.trim() };
    $("themes-preview").hidden = true;
    planned = null;
    if (!body.source || !body.target) {
      message("Indiquez le thème à fusionner et celui qui le remplace.", "error");
      return;
    }
    const result = await request("coordination/themes/merge?dry_run=true", { method: "POST", json: body });
    if (!result.ok) {
      const problems = (result.data.problems || []).map((p) => p.message).join(" ; ");
      message(result.data.detail + (problems ? " " + problems : ""), "error");
      return;
    }
    message("");
    planned = body;
    const rows = result.data.documents;
    $("themes-preview-summary").textContent =
      `Fusionner «\u00a0${result.data.source}\u00a0» dans «\u00a0${result.data.target}\u00a0» réécrira ${plural(rows.length, "document")} :`;
    $("themes-preview-list").replaceChildren(
      ...rows.map((row) => el("li", {}, `${row.title} (${row.doc_id}) : ${row.before.join(", ")} → ${row.after.join(", ")}`)),
    );
    $("themes-preview").hidden = false;
    $("t-merge").focus();
  }

  $("themes-form").addEventListener("submit", (event) => {
    event.preventDefault();
    preview();
  });
  $("t-cancel").addEventListener("click", () => {
    $("themes-preview").hidden = true;
    planned = null;
    $("t-source").focus();
  });
  $("t-merge").addEventListener("click", async () => {
    if (!planned) return;
    $("t-merge").disabled = true;
    const result = await request("coordination/themes/merge", { method: "POST", json: planned });
    $("t-merge").disabled = false;
    $("themes-preview").hidden = true;
    planned = null;
    if (!result.ok) {
      message(result.data.detail, "error");
      return;
    }
    const failed = result.data.failed.length ? ` ${plural(result.data.failed.length, "document")} n'ont pas pu être réécrits : refaites la fusion.` : "";
    message(`Thème «\u00a0${result.data.source}\u00a0» fusionné dans «\u00a0${result.data.target}\u00a0» : ${plural(result.data.merged.length, "document")} réécrit${result.data.merged.length > 1 ? "s" : ""}.${failed}`, failed ? "error" : "success");
    document.dispatchEvent(new CustomEvent("passerelles:catalogue-changed"));
    loadThemes();
  });

  onKey(() => loadThemes());
  loadThemes();
})();
