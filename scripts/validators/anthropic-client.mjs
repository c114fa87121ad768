// The official TypeScript SDK of the Anthropic API (@anthropic-ai/sdk) as a
// client of Ward's LLM gateway: internal/httpapi/gateway_tssdk_test.go runs
// it against Ward in front of a fake upstream. The SDK is used as a customer
// would use it: only its base URL, key and a default Ward-Patient header are
// set (and, for one scenario, the x-api-key header instead of Authorization).
//
// Usage: node anthropic-client.mjs SCENARIO...
//   WARD_BASE_URL  Ward's gateway base URL (https://ward.example.org/llm)
//   WARD_KEY       a Ward credential with the gateway scope
//   WARD_PATIENT   optional: the patient id sent as Ward-Patient
//   WARD_AUTH      "bearer" (the SDK's default, Authorization: Bearer) or
//                  "x-api-key" (the header older SDKs send)
//   WARD_MODEL     the model (default claude-haiku-5-5)
//
// Scenarios: create, stream, stream-raw, history, count, models, beta, error,
// stream-error. Each prints one JSON object on a line of its own with the
// scenario's name, what the SDK returned (or the error it threw), and the
// headers the SDK put on its requests (as its fetch saw them). A scenario
// that throws where it should not prints {"scenario", "thrown"}: the Go test
// decides. The exit status is 0 unless the arguments are wrong.
import Anthropic from "@anthropic-ai/sdk";

const base = process.env.WARD_BASE_URL;
const key = process.env.WARD_KEY;
const patient = process.env.WARD_PATIENT;
const auth = process.env.WARD_AUTH || "bearer";
const model = process.env.WARD_MODEL || "claude-haiku-5-5";
const scenarios = process.argv.slice(2);
if (!base || !key || scenarios.length === 0) {
  console.error("usage: WARD_BASE_URL=... WARD_KEY=... [WARD_PATIENT=...] node anthropic-client.mjs SCENARIO...");
  process.exit(2);
}

// sent records the headers of every request the SDK made, as its fetch saw
// them (the SDK's own headers: anthropic-version, x-stainless-*, the key).
let sent = [];
const recordingFetch = (url, init) => {
  const h = new Headers(init?.headers);
  const o = {};
  for (const [k, v] of h) o[k] = v;
  sent.push({ url: String(url), method: init?.method, headers: o });
  return fetch(url, init);
};

function client(opts = {}) {
  const defaultHeaders = {};
  if (patient) defaultHeaders["Ward-Patient"] = patient;
  if (auth === "x-api-key") {
    // the header older SDKs send: the key in x-api-key, no Authorization
    defaultHeaders["X-Api-Key"] = key;
    defaultHeaders["Authorization"] = null;
  }
  return new Anthropic({ baseURL: base, apiKey: key, defaultHeaders, fetch: recordingFetch, maxRetries: 0, ...opts });
}

// chart mirrors chartParams in internal/httpapi/gateway_test.go: PHI in the
// system prompt, a tool's description, a user turn, a tool call and its
// result.
function chart() {
  return {
    model,
    max_tokens: 1024,
    system: [{ type: "text", text: "You help the care team of Rosalind Vantongeren (DOB 07/14/1962, MRN-884213). Reach her at 617-555-0142." }],
    tools: [{
      name: "lookup",
      description: "Look up the chart of a patient such as Rosalind Vantongeren.",
      input_schema: { type: "object", properties: { who: { type: "string" } } },
    }],
    messages: [
      { role: "user", content: [{ type: "text", text: "Rosalind Vantongeren reports fasting glucose 126 mg/dL and HbA1c 7.2%. Email her at rosalind.v@example.org; she lives at 12 Quince Lane, Springfield, IL 62704." }] },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_00", name: "lookup", input: { who: "Rosalind Vantongeren", dob: "1962-07-14" } }] },
      { role: "user", content: [
        { type: "tool_result", tool_use_id: "toolu_00", content: "Chart of Rosalind Vantongeren, MRN-884213: metformin 500 mg twice daily." },
        { type: "text", text: "Summarise her macros for today." },
      ] },
    ],
  };
}

// summary is what the test checks of a Message.
function summary(m) {
  const text = m.content.filter((b) => b.type === "text").map((b) => b.text).join("");
  const tool = m.content.find((b) => b.type === "tool_use");
  return { id: m.id, type: m.type, role: m.role, model: m.model, stop_reason: m.stop_reason, text,
    tool_input: tool ? tool.input : null, usage: m.usage };
}

// errorOf is what the test checks of an error the SDK threw.
function errorOf(e) {
  return {
    class: e?.constructor?.name ?? null,
    name: e?.name ?? null,
    api_error: e instanceof Anthropic.APIError,
    rate_limit: e instanceof Anthropic.RateLimitError,
    overloaded: typeof Anthropic.OverloadedError === "function" && e instanceof Anthropic.OverloadedError,
    internal_server: e instanceof Anthropic.InternalServerError,
    bad_request: e instanceof Anthropic.BadRequestError,
    authentication: e instanceof Anthropic.AuthenticationError,
    not_found: e instanceof Anthropic.NotFoundError,
    status: e?.status ?? null,
    type: e?.type ?? e?.error?.error?.type ?? null,
    request_id: e?.requestID ?? null,
    retry_after: e?.headers?.get?.("retry-after") ?? null,
    message: String(e?.message ?? e),
  };
}

const run = {
  // messages.create, not streaming, with a tool
  async create() {
    const { data, response } = await client().messages.create(chart()).withResponse();
    return { message: summary(data), request_id: response.headers.get("request-id") };
  },

  // messages.stream, accumulated by the SDK to its final message
  async stream() {
    const s = client().messages.stream(chart());
    let events = 0, textDeltas = "";
    s.on("streamEvent", () => events++);
    s.on("text", (d) => { textDeltas += d; });
    const final = await s.finalMessage();
    return { message: summary(final), events, text_deltas: textDeltas };
  },

  // messages.create with stream: true, the raw events accumulated here
  async "stream-raw"() {
    const s = await client().messages.create({ ...chart(), stream: true });
    const types = [];
    let text = "", json = "", stop = null;
    for await (const ev of s) {
      types.push(ev.type);
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
      if (ev.type === "content_block_delta" && ev.delta.type === "input_json_delta") json += ev.delta.partial_json;
      if (ev.type === "message_delta") stop = ev.delta.stop_reason;
    }
    return { types, text, tool_input: json ? JSON.parse(json) : null, stop_reason: stop };
  },

  // a conversation resent with its history: the reply, as the SDK returned
  // it, appended, and a new user turn
  async history() {
    const c = client();
    const p = chart();
    const first = await c.messages.create(p);
    const tool = first.content.find((b) => b.type === "tool_use");
    p.messages.push({ role: "assistant", content: first.content });
    p.messages.push({ role: "user", content: [
      ...(tool ? [{ type: "tool_result", tool_use_id: tool.id, content: "Rosalind Vantongeren ate well." }] : []),
      { type: "text", text: "Her sister Philippa Vantongeren called from 617-555-0199." },
    ] });
    const second = await c.messages.create(p);
    return { first: summary(first), second: summary(second), turns: p.messages.length };
  },

  // messages.countTokens
  async count() {
    const p = chart();
    const n = await client().messages.countTokens({ model, system: p.system, tools: p.tools, messages: p.messages });
    return { input_tokens: n.input_tokens };
  },

  // models.list, paged by the SDK two at a time, and models.retrieve
  async models() {
    const ids = [];
    for await (const m of client().models.list({ limit: 2 })) ids.push(m.id);
    const m = await client().models.retrieve(model);
    return { model_ids: ids, model_info: { id: m.id, display_name: m.display_name, max_input_tokens: m.max_input_tokens } };
  },

  // the beta surface: ?beta=true and an anthropic-beta header
  async beta() {
    const m = await client().beta.messages.create({ ...chart(), betas: ["token-efficient-tools-2025-02-19"] });
    return { message: summary(m) };
  },

  // an error status: the SDK's typed error (no retries)
  async error() {
    try {
      const m = await client().messages.create(chart());
      return { unexpected: summary(m) };
    } catch (e) {
      return { error: errorOf(e) };
    }
  },

  // an error event in a stream
  async "stream-error"() {
    try {
      const m = await client().messages.stream(chart()).finalMessage();
      return { unexpected: summary(m) };
    } catch (e) {
      return { error: errorOf(e) };
    }
  },
};

for (const name of scenarios) {
  sent = [];
  let out;
  if (!run[name]) {
    console.error(`unknown scenario ${name}`);
    process.exit(2);
  }
  try {
    out = await run[name]();
  } catch (e) {
    out = { thrown: errorOf(e) };
  }
  process.stdout.write(JSON.stringify({ scenario: name, ...out, sent }) + "\n");
}
