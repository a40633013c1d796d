// Writes the kustomize base of deploy/kubernetes/base/ and the operator-ha
// overlay, generated from lib/kubernetes/ (rules and dashboard from their own sources),
// and prints what it wrote. A test fails when the committed files are stale.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KUBERNETES_BASE_DIR, kubernetesBaseFiles } from "../../lib/kubernetes/manifests.ts";
import { OPERATOR_HA_DIR, operatorHaFiles } from "../../lib/kubernetes/operator_ha.ts";

for (const [dir, files] of [[KUBERNETES_BASE_DIR, kubernetesBaseFiles()], [OPERATOR_HA_DIR, operatorHaFiles()]] as const) {
  mkdirSync(dir, { recursive: true });
  // A file the generator no longer makes would stay listed nowhere but still be applied by hand.
  for (const old of readdirSync(dir)) if (!(old in files)) rmSync(join(dir, old));
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, text);
    console.log(`wrote ${path} (${text.length} bytes)`);
  }
}
