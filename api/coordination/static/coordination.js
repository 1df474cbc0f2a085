/* Passerelles : page de la coordination (aucun script en ligne). */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);

  // Types and sectors come from the API's vocabulary: no hand-kept copy in this page.
  const savedKey = sessionStorage.getItem("passerelles-key");
  const vocabularyHeaders = { Accept: "application/json" };
  if (savedKey) vocabularyHeaders.Authorization = "Bearer " + savedKey;
  fetch("vocabulary", { headers: vocabularyHeaders })
    .then((response) => (response.ok ? response.json() : null))
    .then((vocabulary) => {
      if (!vocabulary) return;
      for (const [id, values] of [["f-doc_type", vocabulary.doc_types], ["f-sector", vocabulary.sectors]]) {
        for (const value of values) {
          const option = document.createElement("option");
          option.value = value;
          option.textContent = value;
          $(id).appendChild(option);
        }
      }
    })
    .catch(() => {});
  const keyInput = $("api-key");
  keyInput.value = sessionStorage.getItem("passerelles-key") || "";
  keyInput.addEventListener("change", () => sessionStorage.setItem("passerelles-key", keyInput.value.trim()));
  let mode = "fiche";

  for (const [tab, panel, name] of [["tab-fiche", "panel-fiche", "fiche"], ["tab-file", "panel-file", "file"]]) {
    $(tab).addEventListener("click", () => {
      mode = name;
      for (const [t, p] of [["tab-fiche", "panel-fiche"], ["tab-file", "panel-file"]]) {
        $(t).setAttribute("aria-selected", String(t === tab));
        $(p).hidden = p !== panel;
      }
    });
  }

  function clearErrors() {
    document.querySelectorAll(".field-error").forEach((e) => e.remove());
    document.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    $("duplicates").replaceChildren();
  }

  function showStatus(text, kind) {
    const box = $("status");
    box.hidden = false;
    box.className = kind;
    box.textContent = text;
  }

  function fieldFor(name) {
    if (name.startsWith("sections.")) return document.querySelector(`[data-section="${CSS.escape(name.slice(9))}"]`);
    return $("f-" + name) || document.querySelector(`[data-field="${CSS.escape(name)}"]`);
  }

  function showProblems(problems) {
    let first = null;
    for (const problem of problems) {
      const message = typeof problem === "string" ? problem : `${problem.message}`;
      const field = typeof problem === "string" ? null : fieldFor(problem.field);
      const p = document.createElement("p");
      p.className = "field-error";
      p.textContent = field ? message : `${problem.field || ""} : ${message}`;
      if (field) {
        field.setAttribute("aria-invalid", "true");
        p.id = field.id + "-error";
        field.setAttribute("aria-describedby", p.id);
        field.insertAdjacentElement("afterend", p);
        first = first || field;
      } else {
        $("status").appendChild(p);
      }
    }
    if (first) first.focus();
  }

  function showDuplicates(duplicates) {
    const box = $("duplicates");
    box.replaceChildren();
    if (!duplicates || !duplicates.length) return;
    const title = document.createElement("h2");
    title.textContent = "Attention : des documents très proches existent déjà";
    box.appendChild(title);
    for (const d of duplicates) {
      const item = document.createElement("div");
      item.className = "duplicate";
      const strong = document.createElement("strong");
      strong.textContent = d.title;
      const detail = document.createElement("p");
      detail.textContent = `${d.doc_id} — similarité du texte ${Math.round(d.similarity * 100)} % — ${d.reasons.join(" ; ")}`;
      item.append(strong, detail);
      box.appendChild(item);
    }
  }

  function ficheBody() {
    const body = {};
    for (const name of ["title", "doc_type", "sector", "territory", "porteur", "date", "summary"]) {
      const value = $("f-" + name).value.trim();
      if (value) body[name] = value;
    }
    body.themes = $("f-themes").value.split(",").map((t) => t.trim()).filter(Boolean);
    const replaces = $("f-replaces").value.split(",").map((t) => t.trim()).filter(Boolean);
    if (replaces.length) body.replaces = replaces;
    body.sections = {};
    document.querySelectorAll("[data-section]").forEach((area) => {
      if (area.value.trim()) body.sections[area.dataset.section] = area.value;
    });
    return JSON.stringify(body);
  }

  function fileBody() {
    const data = new FormData();
    const file = $("u-file").files[0];
    if (file) data.append("file", file);
    document.querySelectorAll("[data-field]").forEach((input) => {
      if (input.value.trim()) data.append(input.dataset.field, input.value.trim());
    });
    return data;
  }

  async function send(dryRun) {
    clearErrors();
    const headers = { Authorization: "Bearer " + keyInput.value.trim() };
    let body;
    if (mode === "fiche") {
      headers["Content-Type"] = "application/json";
      body = ficheBody();
    } else {
      if (!$("u-file").files.length) {
        showStatus("Choisissez d'abord un fichier.", "error");
        return;
      }
      body = fileBody();
    }
    showStatus(dryRun ? "Vérification en cours…" : "Publication en cours…", "");
    let response, data;
    try {
      response = await fetch("documents" + (dryRun ? "?dry_run=true" : ""), { method: "POST", headers, body });
      data = await response.json();
    } catch (error) {
      showStatus("Le service ne répond pas : réessayez dans un instant.", "error");
      return;
    }
    if (response.ok) {
      showStatus(
        dryRun
          ? `La fiche est valide (identifiant « ${data.doc_id} »). Vous pouvez la publier.`
          : `Fiche publiée : « ${data.title} » est déjà trouvable dans la recherche.`,
        "ok",
      );
      showDuplicates(data.duplicates);
    } else {
      showStatus(data.detail || "Erreur.", "error");
      if (Array.isArray(data.problems)) showProblems(data.problems);
    }
  }

  $("check").addEventListener("click", () => send(true));
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
})();
