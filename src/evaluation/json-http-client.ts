import { HttpRequestError } from "../internal/http-request-error.js";

/** A reference endpoint could not be reached or refused a request; the message says which, and why. */
export class ReferenceRequestError extends HttpRequestError {}

/** Said after a reference endpoint's status in ReferenceRequestError messages (see postJson's statusHints). */
export const REFERENCE_STATUS_HINTS: Readonly<Record<number, string>> = {
    401: " (check the API key)",
    403: " (check the API key and its permissions)",
    404: " (check the reference URL: the endpoint is not there)",
};
