import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getHttpOperationsFromSpec } from "@stoplight/prism-http";
import { createClientFromOperations } from "@stoplight/prism-http/dist/client.js";

/**
 * A validation proxy in front of the gateway, as `prism proxy <document> <gateway> --errors`
 * is, but in this process: each request goes through Stoplight Prism's own validator
 * (`@stoplight/prism-http`, the library the Prism CLI runs), which checks it against the
 * platform's merged OpenAPI document (parameters, headers, body, security), forwards it to the
 * gateway, and checks the answer (status, media type, headers, body). On top, the checks Prism
 * leaves out (`contractGaps`): an answer whose status the operation does not list by itself
 * (only `default` covers it), and a platform header it carries that its response does not
 * document, or one documented as required that it lacks.
 */

type Json = Record<string, unknown>;

/** One of Prism's findings: severity 0 is an error, 1 a warning. */
export interface Diagnostic {
  message: string;
  severity: number;
  path?: string[];
  code?: string | number;
}

export interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Prism's findings on the request (parameters, headers, body, security). */
  request: Diagnostic[];
  /** Prism's findings on the answer (status, media type, headers, body). */
  response: Diagnostic[];
  /** What Prism does not check: see `contractGaps`. */
  gaps: string[];
}

/** The platform's headers a response must document wherever it carries them. */
const PLATFORM_HEADERS = [
  "x-request-id",
  "x-correlation-id",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "retry-after",
  "preference-applied",
  "idempotent-replayed",
  "www-authenticate",
];

const METHODS = ["get", "put", "post", "delete", "patch"];

/** The operation of `document` a request is for: the template with the fewest parameters wins. */
function operationOf(document: Json, method: string, path: string): Json | undefined {
  const candidates = Object.entries(document.paths as Json)
    .filter(([template]) => {
      const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
      return new RegExp(`^${pattern}$`).test(path);
    })
    .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  for (const [, item] of candidates) {
    const operation = (item as Json)[method.toLowerCase()] as Json | undefined;
    if (operation) return operation;
  }
  return undefined;
}

/**
 * What Prism does not check: the status is listed by the operation itself (not only covered by
 * `default`), every platform header the answer carries is documented on its response, and every
 * header documented as required is there.
 */
export function contractGaps(
  document: Json,
  method: string,
  url: string,
  status: number,
  headers: Record<string, string>,
): string[] {
  const path = url.split("?", 1)[0] ?? url;
  if (!METHODS.includes(method.toLowerCase())) return [`${method} is not an API method`];
  const operation = operationOf(document, method, path);
  if (!operation) return [`no operation for ${method} ${path}`];
  const responses = (operation.responses as Json | undefined) ?? {};
  const gaps: string[] = [];
  const listed = responses[String(status)] as Json | undefined;
  if (!listed) gaps.push(`status ${status} is not listed (only \`default\` covers it)`);
  const response = listed ?? (responses.default as Json | undefined) ?? {};
  const documented = new Map(
    Object.entries((response.headers as Json | undefined) ?? {}).map(([name, header]) => [
      name.toLowerCase(),
      header as Json,
    ]),
  );
  for (const name of PLATFORM_HEADERS)
    if (headers[name] !== undefined && !documented.has(name))
      gaps.push(`header ${name} is sent but not documented on ${status}`);
  for (const [name, header] of documented)
    if (header.required === true && headers[name] === undefined)
      gaps.push(`header ${name} is documented as required on ${status} but missing`);
  return gaps;
}

const silent = {
  child: () => silent,
  trace() {},
  debug() {},
  info() {},
  success() {},
  warn() {},
  error() {},
  fatal() {},
};

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export interface ContractProxy {
  /** Where clients send their requests (instead of the gateway). */
  url: string;
  /** The merged document every exchange is checked against, as the gateway served it. */
  document: Json;
  /** Every exchange so far, oldest first. */
  exchanges: Exchange[];
  /** The exchanges since the last call, each with what was found. */
  take(): Exchange[];
  close(): Promise<void>;
}

/**
 * Starts the validation proxy for `gateway`, with the document the gateway serves now (or
 * `document`, to prove that the checks catch one that is wrong).
 */
export async function startContractProxy(gateway: string, override?: Json): Promise<ContractProxy> {
  const document = override ?? ((await (await fetch(`${gateway}/openapi.json`)).json()) as Json);
  const operations = await getHttpOperationsFromSpec(document);
  const prism = createClientFromOperations(operations, {
    mock: { dynamic: false },
    checkSecurity: true,
    validateRequest: true,
    validateResponse: true,
    // Findings are collected, not answered instead of the gateway's: an invalid request still
    // reaches the gateway, so its 400 is checked against the document too.
    errors: false,
    upstreamProxy: undefined,
    isProxy: true,
    upstream: new URL(gateway),
    logger: silent as never,
  });
  const exchanges: Exchange[] = [];
  let taken = 0;

  const handle = async (request: IncomingMessage, reply: ServerResponse) => {
    const method = (request.method ?? "GET").toLowerCase();
    const url = request.url ?? "/";
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name))
        headers[name] = Array.isArray(value) ? value.join(", ") : value;
    const raw = await readBody(request);
    let body: unknown = raw === "" ? undefined : raw;
    if (raw !== "" && /json/.test(headers["content-type"] ?? ""))
      try {
        body = JSON.parse(raw);
      } catch {
        // Sent on as it came: the document's check of the body reports it.
      }
    const answer = await prism.request(url, {
      method: method as never,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const answerHeaders = Object.fromEntries(
      Object.entries(answer.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
    );
    const problems = (diagnostics: Diagnostic[]) => diagnostics.filter((found) => found.severity <= 1);
    exchanges.push({
      method: method.toUpperCase(),
      url,
      status: answer.status,
      headers: answerHeaders,
      body: answer.data,
      request: problems(answer.violations.input as Diagnostic[]),
      response: problems(answer.violations.output as Diagnostic[]),
      gaps: contractGaps(document, method, url, answer.status, answerHeaders),
    });
    for (const [name, value] of Object.entries(answerHeaders))
      if (!HOP_BY_HOP.has(name) && name !== "content-encoding") reply.setHeader(name, value);
    reply.statusCode = answer.status;
    const data = answer.data;
    reply.end(
      answer.status === 204 || data === undefined || data === ""
        ? undefined
        : typeof data === "string"
          ? data
          : JSON.stringify(data),
    );
  };

  const server = createServer((request, reply) => {
    handle(request, reply).catch((error: unknown) => {
      reply.statusCode = 599;
      reply.end(`contract proxy failed: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    document,
    exchanges,
    take() {
      const fresh = exchanges.slice(taken);
      taken = exchanges.length;
      return fresh;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** An exchange as a line for a failure message. */
export function describeExchange(exchange: Exchange): string {
  const findings = [
    ...exchange.request.map((found) => `request: ${found.path?.join(".") ?? ""} ${found.message}`),
    ...exchange.response.map((found) => `response: ${found.path?.join(".") ?? ""} ${found.message}`),
    ...exchange.gaps.map((gap) => `document: ${gap}`),
  ];
  return `${exchange.method} ${exchange.url} → ${exchange.status}${findings.map((line) => `\n    ${line}`).join("")}`;
}
