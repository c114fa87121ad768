// Package gateway is Ward's LLM gateway: an Anthropic-compatible Messages
// endpoint (non-streaming, streaming and count_tokens) that de-identifies
// every text an upstream will see, sends the call only to a registered
// subprocessor with an executed BAA and a zero-data-retention attestation,
// re-identifies the reply (also as it streams) and audits the call.
//
// Rules, checked in review and by the tests:
//
//  1. Nothing leaves before it is de-identified. The system prompt, every
//     message's text, tool_use inputs, tool_result contents, tool
//     descriptions, stop_sequences and metadata.user_id go through one
//     phi.Session per call, in a fixed order (tools, system, messages in
//     order, stop sequences, metadata), so placeholders are numbered by
//     first occurrence and a client that resends its history gets the same
//     earlier turns byte for byte. Content Ward cannot de-identify (images,
//     documents, server tools, MCP servers, unknown block types) is refused,
//     and so is a message thread (the upstream would hold the history and
//     the client send only new turns, numbered apart from it). The models
//     of fallbacks pass the gate the request's model passes.
//     thinking and redacted_thinking blocks pass untouched (their signatures
//     are checked upstream).
//  2. Fail closed: any de-identification error refuses the call; nothing is
//     sent.
//  3. The placeholder mapping lives in memory for one call and is dropped
//     when the call ends. Prompts and replies are never stored, logged or
//     put in errors: errors and logs carry ids, sizes and counts.
//  4. Every call that reaches the gate writes an ai.invoke audit event
//     (provider, model, counts per PHI type, tokens, outcome) in its own
//     transaction bound to the caller's credential, committed before the
//     reply is returned. A stream's event is written while its content is
//     relayed, and its end (message_delta, message_stop) is relayed only
//     once the event committed. An audit failure fails the call: a 500, or
//     for a stream an error event in place of its end.
//  5. Ward's upstream key for a provider comes from the server's
//     configuration; it is sent only to that provider and never returned.
//  6. Fields Ward does not rewrite pass through: those known to carry no
//     text (max_tokens, temperature, tool_choice, thinking, service_tier…)
//     unchanged; any other field, and any member of a content block that
//     Ward does not rewrite (cache_control, a client's own), with its
//     structure, numbers and identifier-like strings unchanged and every
//     other string de-identified. Citations in a resent history are
//     de-identified (the reply's are re-identified). The query string
//     passes only as beta=true. The upstream's events are relayed in order,
//     with their indexes, as they arrive.
//  7. The registry entry of the provider is kept in memory for at most
//     Config.RegistryTTL (DefaultRegistryTTL, 5 s): a registry change is
//     enforced within that bound on every node. The gate's checks (BAA date
//     against the clock, zero retention, model) run on every call.
package gateway
