import { describe, expect, it } from "vitest";
import { asMetric } from "./family.ts";
import { CERTIFICATE_EXPIRY_METRIC, certificateExpiryFamily } from "./certificate_family.ts";

describe("the certificate expiry gauge", () => {
  it("is one unlabelled gauge sample with the expiry in unix seconds", async () => {
    const f = certificateExpiryFamily(1_827_698_845);
    expect(await f.get()).toMatchObject({ name: CERTIFICATE_EXPIRY_METRIC, type: "gauge", values: [{ labels: {}, value: 1_827_698_845 }] });
    expect(asMetric(f)).toBeDefined();
  });
});
