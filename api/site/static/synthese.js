/* Passerelles — the written synthesis of an answer, shown as the language model writes it.
 * The page already holds the sources (server-rendered digest); this script, loaded only when
 * a language model is configured, asks POST /ask/stream for the same question and fills the
 * "Synthèse rédigée" box, then replaces the streamed text with the checked answer, whose [n]
 * link to the sources listed below. Nothing happens without JavaScript: the digest stays. */
(function () {
  "use strict";
  var box = document.getElementById("synthese");
  if (!box || !window.fetch || !window.TextDecoder) return;
  var text = box.querySelector(".synthese-texte");
  var state = box.querySelector(".synthese-etat");
  var body = { question: box.getAttribute("data-question") };
  try {
    var filters = JSON.parse(box.getAttribute("data-filters") || "null");
    if (filters) body.filters = filters;
  } catch (e) { /* no filters */ }

  function withCitations(answer) {
    text.textContent = "";
    String(answer).split(/(\[\d+\])/).forEach(function (part) {
      var marker = /^\[(\d+)\]$/.exec(part);
      if (marker && document.getElementById("source-" + marker[1])) {
        var link = document.createElement("a");
        link.className = "cite";
        link.href = "#source-" + marker[1];
        link.setAttribute("aria-label", "source " + marker[1]);
        link.textContent = part;
        text.append(link);
      } else if (part) {
        text.append(part);
      }
    });
  }

  function handle(name, data) {
    if (name === "delta" && data && typeof data.text === "string") {
      text.append(data.text);
    } else if (name === "answer" && data) {
      if (data.mode === "llm") {
        withCitations(data.answer);
        state.textContent = "Synthèse vérifiée : chaque phrase renvoie à sa source.";
      } else {
        box.hidden = true; // no checked synthesis: the digest below is the answer
      }
      box.removeAttribute("aria-busy");
    }
  }

  box.hidden = false;
  box.setAttribute("aria-busy", "true");
  fetch("/ask/stream", {
    method: "POST",
    // the page logged this question already: the API does not log it again
    headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-Passerelles-Canal": "site" },
    body: JSON.stringify(body)
  }).then(function (response) {
    if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function dispatch(chunk) {
      var name = "message";
      var data = [];
      chunk.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (!data.length) return;
      try { handle(name, JSON.parse(data.join("\n"))); } catch (e) { /* a malformed event is skipped */ }
    }
    function pump() {
      return reader.read().then(function (part) {
        if (part.done) {
          if (buffer.trim()) dispatch(buffer);
          return;
        }
        buffer += decoder.decode(part.value, { stream: true });
        var chunks = buffer.split(/\r?\n\r?\n/);
        buffer = chunks.pop();
        chunks.forEach(dispatch);
        return pump();
      });
    }
    return pump();
  }).catch(function () {
    box.hidden = true;
    box.removeAttribute("aria-busy");
  });
})();
