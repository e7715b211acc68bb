// The admin API, called with the admin key the operator signed in with. The key lives in
// sessionStorage only (gone when the tab closes) and is never put into the page.
const KEY = "sluice.adminKey";

export function signedIn() {
  return sessionStorage.getItem(KEY) !== null;
}

export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** An admin API failure, with a message in plain words for the operator. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function plainWords(status, body) {
  const detail = body && body.error && body.error.message ? body.error.message : "";
  switch (status) {
    case 400: return "The node refused the request: " + (detail || "it is not valid.");
    case 401: return "The admin key was not accepted. Check it and sign in again.";
    case 404: return detail || "Not found.";
    case 409: return detail || "That conflicts with what exists.";
    case 413: return "The request is too large.";
    case 503: return "The node cannot answer right now" + (detail ? ": " + detail : ".") + " Try again shortly.";
    default:
      return status >= 500 ? "The node failed to answer (" + status + "). Try again; if it persists, check the node's log."
        : "Unexpected answer " + status + (detail ? ": " + detail : ".");
  }
}

/** Calls the admin API; resolves to the parsed JSON, or rejects with an ApiError. */
export async function call(method, path, body) {
  const headers = { "Authorization": "Bearer " + (sessionStorage.getItem(KEY) || "") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch("/admin/v1" + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
  } catch (e) {
    throw new ApiError(0, "The node did not answer. Is it running, and is this the right address?");
  }
  let json = null;
  try {
    json = await response.json();
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, plainWords(response.status, json), json && json.error ? json.error.code : null);
  }
  return json;
}
