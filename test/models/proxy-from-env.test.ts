// Which proxy a download goes through (src/models/proxy-from-env.ts), read as curl reads the environment.
import { describe, expect, it } from "vitest";
import { proxyFromEnv } from "../../src/models/proxy-from-env.js";

describe("the proxy from the environment", () => {
    it("takes HTTPS_PROXY for https:// and HTTP_PROXY for http://, lower case first when defined", () => {
        const env = { HTTPS_PROXY: "http://a:1", HTTP_PROXY: "http://b:2" };
        expect(proxyFromEnv("https://huggingface.co/x", env)).toEqual({ variable: "HTTPS_PROXY", url: "http://a:1" });
        expect(proxyFromEnv("http://mirror.local/x", env)).toEqual({ variable: "HTTP_PROXY", url: "http://b:2" });
        expect(proxyFromEnv("https://huggingface.co/x", { ...env, https_proxy: "http://c:3" })).toEqual({ variable: "https_proxy", url: "http://c:3" });
        // A defined but empty lower-case variable turns the proxy off, as it does for undici and curl.
        expect(proxyFromEnv("https://huggingface.co/x", { ...env, https_proxy: "" })).toBeUndefined();
        expect(proxyFromEnv("https://huggingface.co/x", {})).toBeUndefined();
    });

    it("goes direct for the hosts NO_PROXY lists: *, a name and its subdomains, a leading dot, a port", () => {
        const via = (url: string, noProxy: string) => proxyFromEnv(url, { HTTPS_PROXY: "http://p:1", NO_PROXY: noProxy })?.url;
        expect(via("https://huggingface.co/x", "*")).toBeUndefined();
        expect(via("https://huggingface.co/x", "localhost, huggingface.co")).toBeUndefined();
        expect(via("https://cdn-lfs.huggingface.co/x", "huggingface.co")).toBeUndefined();
        expect(via("https://cdn-lfs.huggingface.co/x", ".huggingface.co")).toBeUndefined();
        expect(via("https://cdn-lfs.huggingface.co/x", "*.huggingface.co")).toBeUndefined();
        expect(via("https://nothuggingface.co/x", "huggingface.co")).toBe("http://p:1");
        expect(via("https://huggingface.co/x", "huggingface.co:8443")).toBe("http://p:1");
        expect(via("https://huggingface.co:8443/x", "huggingface.co:8443")).toBeUndefined();
        expect(via("https://[::1]:8080/x", "::1")).toBeUndefined();
        expect(via("https://[::1]:8080/x", "[::1]:8080")).toBeUndefined();
        expect(via("https://[::1]:8080/x", "[::1]:9090")).toBe("http://p:1");
        expect(proxyFromEnv("https://huggingface.co/x", { HTTPS_PROXY: "http://p:1", no_proxy: "HuggingFace.co" })).toBeUndefined();
    });

    it("refuses a proxy variable that is not a URL, naming it", () => {
        expect(() => proxyFromEnv("https://huggingface.co/x", { HTTPS_PROXY: "proxy.example 3128" })).toThrow(
            'the proxy HTTPS_PROXY="proxy.example 3128" is not a URL: set it to one such as http://proxy.example:3128, or unset it',
        );
        // Not used for this host: not read.
        expect(proxyFromEnv("https://huggingface.co/x", { HTTPS_PROXY: "proxy.example 3128", NO_PROXY: "*" })).toBeUndefined();
    });
});
