// Writes the kustomize base of deploy/kubernetes/base/, generated from
// lib/kubernetes/manifests.ts (rules and dashboard from their own sources),
// and prints what it wrote. A test fails when the committed files are stale.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KUBERNETES_BASE_DIR, kubernetesBaseFiles } from "../../lib/kubernetes/manifests.ts";

const files = kubernetesBaseFiles();
mkdirSync(KUBERNETES_BASE_DIR, { recursive: true });
// A file the generator no longer makes would stay listed nowhere but still be applied by hand.
for (const old of readdirSync(KUBERNETES_BASE_DIR)) if (!(old in files)) rmSync(join(KUBERNETES_BASE_DIR, old));
for (const [name, text] of Object.entries(files)) {
  const path = join(KUBERNETES_BASE_DIR, name);
  writeFileSync(path, text);
  console.log(`wrote ${path} (${text.length} bytes)`);
}
