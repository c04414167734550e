// The playground: streams chat completions from the same /v1 API that clients use (with the
// session instead of a key), one or two models side by side, and shows the equivalent code.
const root = document.getElementById("playground");
const $ = (id) => document.getElementById(id);
const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1];
let history = [];  // the shared conversation: user turns, and model A's answers

function settings() {
  return {
    temperature: parseFloat($("temperature").value),
    top_p: parseFloat($("top-p").value),
    max_tokens: parseInt($("max-tokens").value, 10),
  };
}

function requestMessages(extra) {
  const system = $("system-prompt").value.trim();
  return [...(system ? [{ role: "system", content: system }] : []), ...history, ...extra];
}

function bubble(transcript, role, text) {
  const element = document.createElement("div");
  element.className = `bubble ${role}`;
  element.textContent = text;
  transcript.querySelector(".messages-list").append(element);
  return element;
}

async function stream(model, messages, target) {
  const response = await fetch("/v1/chat/completions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ model, messages, stream: true, ...settings() }),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    target.classList.add("error");
    target.textContent = body.error?.message || `Request failed (HTTP ${response.status}).`;
    return "";
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "", text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const events = buffer.split("\n\n");
    buffer = events.pop();
    for (const event of events) {
      const data = event.replace(/^data: /, "");
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data);
      if (chunk.error) { target.classList.add("error"); target.textContent = chunk.error.message; continue; }
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) { text += delta; target.textContent = text; }
    }
  }
  return text;
}

function updateCode() {
  const model = $("model-a").value, s = settings(), base = root.dataset.baseUrl;
  const messages = requestMessages([{ role: "user", content: $("prompt").value || "Hello!" }]);
  $("code-python").textContent =
`from openai import OpenAI

client = OpenAI(base_url="${base}", api_key="tun_...")  # an API key from Settings → API keys
reply = client.chat.completions.create(
    model="${model}",
    messages=${JSON.stringify(messages, null, 4).replace(/\n/g, "\n    ")},
    temperature=${s.temperature}, top_p=${s.top_p}, max_tokens=${s.max_tokens},
)
print(reply.choices[0].message.content)`;
  $("code-curl").textContent =
`curl ${base}/chat/completions \\
  -H "Authorization: Bearer $TUNERY_API_KEY" -H "Content-Type: application/json" \\
  -d '${JSON.stringify({ model, messages, temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens })}'`;
}

function labels() {
  $("transcript-a").querySelector(".model-label").textContent = $("model-a").value;
  $("transcript-b").querySelector(".model-label").textContent = $("model-b").value;
}

$("compare-toggle").addEventListener("change", (event) => {
  $("model-b").hidden = !event.target.checked;
  $("transcript-b").hidden = !event.target.checked;
});
["temperature", "top-p"].forEach((id) => $(id).addEventListener("input", () => { $(`${id}-value`).textContent = $(id).value; updateCode(); }));
["model-a", "model-b", "max-tokens", "system-prompt", "prompt"].forEach((id) => $(id).addEventListener("input", () => { labels(); updateCode(); }));
$("clear").addEventListener("click", () => { history = []; document.querySelectorAll(".messages-list").forEach((l) => l.replaceChildren()); });

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  $("prompt").value = "";
  $("send").disabled = true;
  const turn = [{ role: "user", content: prompt }];
  const runs = [["a", $("model-a").value]];
  if ($("compare-toggle").checked) runs.push(["b", $("model-b").value]);
  const answers = await Promise.all(runs.map(([side, model]) => {
    const transcript = $(`transcript-${side}`);
    bubble(transcript, "user", prompt);
    return stream(model, requestMessages(turn), bubble(transcript, "assistant", ""));
  }));
  history.push(...turn, { role: "assistant", content: answers[0] });
  $("send").disabled = false;
  updateCode();
});

labels();
updateCode();
