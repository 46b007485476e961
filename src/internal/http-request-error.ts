/** An HTTP endpoint could not be reached, or refused a request; the message says which, and why. */
export class HttpRequestError extends Error {
    readonly url: string;
    /** The HTTP status, when there was an answer. */
    readonly status: number | undefined;

    constructor(message: string, url: string, status?: number, options?: ErrorOptions) {
        super(message, options);
        this.name = new.target.name;
        this.url = url;
        this.status = status;
    }
}
