import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, tempDir } from "../../tests/harness.ts";
import { ensureCertificates } from "../secrets/ca.ts";
import { fetchTrusting, httpGet } from "./https_get.ts";

const dirs: string[] = [];
afterAll(() => cleanup(dirs));

describe("httpGet", () => {
  it("trusts the given CA only, sends the headers, and rejects with the TLS error's code", async () => {
    const dir = tempDir("etl-https-get-");
    dirs.push(dir);
    await ensureCertificates(join(dir, "a"));
    await ensureCertificates(join(dir, "b"));
    const server = createServer(
      { cert: readFileSync(join(dir, "a/tls/prometheus.crt")), key: readFileSync(join(dir, "a/tls/prometheus.key")) },
      (req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => res.end(`${req.method} auth=${req.headers.authorization}${body ? ` body=${body}` : ""}`));
      },
    );
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      expect(await httpGet(url, { ca: readFileSync(join(dir, "a/ca.crt"), "utf8"), headers: { authorization: "Basic x" } })).toEqual({ status: 200, body: "GET auth=Basic x" });
      const trusting = fetchTrusting(readFileSync(join(dir, "a/ca.crt"), "utf8"));
      const put = await trusting(url, { method: "PUT", headers: { authorization: "Basic y" }, body: '{"a":1}' });
      expect([put.status, await put.text()]).toEqual([200, 'PUT auth=Basic y body={"a":1}']);
      await expect(fetchTrusting(readFileSync(join(dir, "b/ca.crt"), "utf8"))(url)).rejects.toMatchObject({
        message: "fetch failed",
        cause: { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
      });
      await expect(httpGet(url, { ca: readFileSync(join(dir, "b/ca.crt"), "utf8") })).rejects.toMatchObject({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
      await expect(httpGet(url.replace("https:", "http:"))).rejects.toBeDefined();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
