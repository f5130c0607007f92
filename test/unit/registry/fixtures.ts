/** A dockerconfigjson pull secret in namespace `ns` whose key is `host`, user `name`. */
export function pullSecret(name: string, host: string, annotations: Record<string, string> = {}) {
  const config = JSON.stringify({ auths: { [host]: { username: name, password: "p" } } });
  return {
    metadata: { name, namespace: "ns", annotations },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
  };
}
