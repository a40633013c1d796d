import { describe, expect, it } from "vitest";
import { CERTIFICATE_EXPIRY_METRIC, certificateExpiryFamily } from "./certificate_family.ts";
import { renderFamilies } from "./exposition.ts";

describe("the certificate expiry gauge", () => {
  it("is one unlabelled gauge sample with the expiry in unix seconds", () => {
    const f = certificateExpiryFamily(1_827_698_845);
    expect(f).toMatchObject({ name: CERTIFICATE_EXPIRY_METRIC, type: "gauge", values: [{ labels: {}, value: 1_827_698_845 }] });
    expect(renderFamilies([f], "text")).toContain(`\n${CERTIFICATE_EXPIRY_METRIC} 1827698845\n`);
  });
});
