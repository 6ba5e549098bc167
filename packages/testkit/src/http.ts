/** What a test sends with `callHttp`: each part optional. */
export interface HttpRequest {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON (content-type application/json), or as it is when it is a string. */
  body?: unknown;
  /** Added last: they override the two above (e.g. another content-type). */
  headers?: Record<string, string>;
}

/** An HTTP answer: status, headers, the body parsed as JSON (the text when it is not JSON) and the raw text. */
export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined for an empty body; the text itself when it is not JSON. */
  body: T;
  text: string;
}

/** A real HTTP request to `${baseUrl}${path}` (fetch), answered as an HttpAnswer. Fails only on a network error. */
export async function callHttp<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  request: HttpRequest = {},
): Promise<HttpAnswer<T>> {
  const { token, body, headers } = request;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}
