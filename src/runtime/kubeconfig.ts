import { KubeConfig } from "@kubernetes/client-node";

/** The explicit kubeconfig file, else the in-cluster service account, else ~/.kube/config. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      path ? `kubeconfig ${path} has no current cluster` : "no kubeconfig found and not running in a cluster",
    );
  }
  return kc;
}
