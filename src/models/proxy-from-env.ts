/**
 * The proxy a download goes through, from the environment as curl reads it: `https_proxy` / `HTTPS_PROXY` for https://
 * URLs, `http_proxy` / `HTTP_PROXY` for http:// ones (lower case first, when defined), except for the hosts `no_proxy` /
 * `NO_PROXY` lists (comma- or space-separated: `*` for every host, a name that matches itself and its subdomains, a
 * leading `.` or `*.` ignored, an optional `:port`). (undici's EnvHttpProxyAgent does the same but prints an
 * "experimental" warning on every use.)
 */
export interface ProxyChoice {
    /** The variable that named it, for messages. */
    variable: string;
    url: string;
}

export function proxyFromEnv(target: string, env: NodeJS.ProcessEnv = process.env): ProxyChoice | undefined {
    const url = new URL(target);
    const [lower, upper] = url.protocol === "https:" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"];
    const variable = env[lower!] !== undefined ? lower! : upper!;
    const proxy = env[variable];
    if (proxy === undefined || proxy === "" || bypassesProxy(url, env["no_proxy"] ?? env["NO_PROXY"] ?? "")) return undefined;
    if (!URL.canParse(proxy)) {
        throw new Error(`the proxy ${variable}=${JSON.stringify(proxy)} is not a URL: set it to one such as http://proxy.example:3128, or unset it`);
    }
    return { variable, url: proxy };
}

function bypassesProxy(url: URL, noProxy: string): boolean {
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    return noProxy
        .split(/[\s,]+/)
        .filter((entry) => entry !== "")
        .some((entry) => {
            if (entry === "*") return true;
            const lowered = entry.toLowerCase().replace(/^\*?\./, "");
            // "[::1]:8080", "host:8080", or a bare IPv6 address (more than one colon: no port).
            const match = /^\[(.*)\](?::(\d+))?$/.exec(lowered) ?? (lowered.split(":").length > 2 ? [lowered, lowered] : /^(.*?)(?::(\d+))?$/.exec(lowered)!);
            const name = match[1]!;
            if (match[2] !== undefined && match[2] !== port) return false;
            return host === name || host.endsWith(`.${name}`);
        });
}
