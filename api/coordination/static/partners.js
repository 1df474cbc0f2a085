/* Passerelles : les sites partenaires sur la page de la coordination (aucun script en ligne).
   The sites' names and addresses are shown with textContent only. */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const section = $("sites-partenaires");
  if (!section) return;

  function key() {
    return ($("api-key").value || sessionStorage.getItem("passerelles-key") || "").trim();
  }

  function say(text, kind) {
    const box = $("partners-status");
    box.hidden = false;
    box.className = kind;
    box.textContent = text;
  }

  async function call(method, url, body) {
    const headers = { Accept: "application/json", Authorization: "Bearer " + key() };
    if (body) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    } catch (error) {
      return { ok: false, message: "Le service ne répond pas : réessayez dans un instant." };
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) return { ok: true, data };
    const problems = (data.problems || []).map((p) => p.message).join(" ; ");
    return { ok: false, message: (data.detail || "Erreur.") + (problems ? " " + problems : "") };
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function show(listing) {
    const base = $("partners-base");
    base.replaceChildren();
    for (const origin of listing.base) {
      const item = document.createElement("li");
      item.textContent = origin;
      base.appendChild(item);
    }
    const body = $("partners-table").querySelector("tbody");
    body.replaceChildren();
    for (const partner of listing.partners) {
      const row = document.createElement("tr");
      cell(row, partner.origin);
      cell(row, partner.name);
      cell(row, new Date(partner.added_at).toLocaleDateString("fr-FR"));
      cell(row, partner.added_by);
      const action = document.createElement("td");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Retirer";
      remove.setAttribute("aria-label", "Retirer le site " + partner.origin);
      remove.addEventListener("click", () => removePartner(partner));
      action.appendChild(remove);
      row.appendChild(action);
      body.appendChild(row);
    }
    $("partners-table").hidden = listing.partners.length === 0;
    $("partners-empty").hidden = listing.partners.length > 0;
  }

  async function refresh() {
    if (!key()) {
      say("Saisissez d'abord votre clé d'accès, en haut de la page.", "error");
      return false;
    }
    const result = await call("GET", "coordination/partners");
    if (!result.ok) {
      say(result.message, "error");
      return false;
    }
    show(result.data);
    return true;
  }

  async function removePartner(partner) {
    if (!window.confirm("Retirer le site « " + partner.origin + " » ? Ses pages ne pourront plus utiliser le widget.")) return;
    const result = await call("DELETE", "coordination/partners?origin=" + encodeURIComponent(partner.origin));
    if (!result.ok) {
      say(result.message, "error");
      return;
    }
    await refresh();
    say("Site retiré : " + partner.origin + ".", "ok");
  }

  $("partners-refresh").addEventListener("click", async () => {
    if (await refresh()) say("Liste à jour.", "ok");
  });
  $("partner-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const origin = $("partner-origin").value.trim();
    const name = $("partner-name").value.trim();
    const result = await call("POST", "coordination/partners", { origin, name });
    if (!result.ok) {
      say(result.message, "error");
      $("partner-origin").setAttribute("aria-invalid", "true");
      return;
    }
    $("partner-origin").removeAttribute("aria-invalid");
    $("partner-form").reset();
    await refresh();
    say("Site ajouté : " + result.data.origin + ". Il peut utiliser le widget dès maintenant.", "ok");
  });
  $("api-key").addEventListener("change", () => {
    if (key()) refresh();
  });
  if (key()) refresh();
})();
